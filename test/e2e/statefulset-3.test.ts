import { statefulSetScenarios } from './statefulset-scenarios';

statefulSetScenarios(3, '127.0.3');
