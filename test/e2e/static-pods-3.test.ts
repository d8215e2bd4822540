import { staticPodScenarios } from './static-pod-scenarios';

staticPodScenarios(3, 23);
