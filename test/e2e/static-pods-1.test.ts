import { staticPodScenarios } from './static-pod-scenarios';

staticPodScenarios(1, '127.0.21');
