import { EtcdVersion } from '../../../lib';
import { describeDriven } from './driven-scenario';

// The real controllers driving real etcd on the library's default release (a file per release, so they run side by side).
describeDriven(EtcdVersion.DEFAULT, 21);
