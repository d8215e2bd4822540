import { staticPodScenarios } from './static-pod-scenarios';

staticPodScenarios(1, 21);
