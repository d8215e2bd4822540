import { EtcdVersion } from '../../../lib';
import { describeDriven } from './driven-scenario';

// The real controllers driving real etcd on the oldest line the upgrades start from (a file per release, so they run side by side).
describeDriven(EtcdVersion.V3_5_35, 20);
