import { statefulSetScenarios } from './statefulset-scenarios';

statefulSetScenarios(3, 3);
