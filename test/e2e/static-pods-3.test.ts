import { staticPodScenarios } from './static-pod-scenarios';

staticPodScenarios(3, '127.0.23');
