import { staticPodScenarios } from './static-pod-scenarios';

staticPodScenarios(5, '127.0.25');
