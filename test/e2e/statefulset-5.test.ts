import { statefulSetScenarios } from './statefulset-scenarios';

statefulSetScenarios(5, '127.0.5');
