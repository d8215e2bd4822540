import { statefulSetScenarios } from './statefulset-scenarios';

statefulSetScenarios(5, 5);
