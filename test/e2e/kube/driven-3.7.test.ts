import { EtcdVersion } from '../../../lib';
import { describeDriven } from './driven-scenario';

// The real controllers driving real etcd on the newest line (a file per release, so they run side by side).
describeDriven(EtcdVersion.V3_7_3, 22);
