import { staticPodScenarios } from './static-pod-scenarios';

staticPodScenarios(5, 25);
