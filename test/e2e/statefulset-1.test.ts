import { statefulSetScenarios } from './statefulset-scenarios';

statefulSetScenarios(1, '127.0.1');
