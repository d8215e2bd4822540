import { statefulSetScenarios } from './statefulset-scenarios';

statefulSetScenarios(1, 1);
