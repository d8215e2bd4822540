import { Size } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { EtcdConfigError } from '../shared/errors';
import { validateInteger, validateNumber } from '../shared/validate';
import { MIB, bytesOf } from './tuning';

/** Options for the hardware-guide presets. */
export interface EtcdResourcePresetOptions {
  /**
   * Set limits equal to requests for CPU and memory, which gives the pod the Guaranteed QoS class:
   * it is the last to be evicted or throttled, and etcd is sensitive to CPU and memory starvation.
   * @default false - memory is limited to the request, CPU is not limited (Burstable)
   */
  readonly guaranteed?: boolean;
}

/** Explicit CPU and memory for the etcd container. */
export interface EtcdResourcesProps {
  /** CPU request in millicores (1000 = one core). */
  readonly cpuRequestMillis: number;
  /** Memory request. */
  readonly memoryRequest: Size;
  /**
   * CPU limit in millicores. Must not be below the request.
   * @default - no CPU limit
   */
  readonly cpuLimitMillis?: number;
  /**
   * Memory limit. Must not be below the request.
   * @default - no memory limit
   */
  readonly memoryLimit?: Size;
}

/**
 * CPU and memory for etcd members.
 *
 * The presets follow the example machine sizes in etcd's hardware guide
 * (small: 2 vCPU / 8 GB up to xlarge: 16 vCPU / 64 GB), sized for the load each one describes.
 */
export class EtcdResources {
  /**
   * 250m CPU and 512 MiB requested, no limits: schedules on a small cluster and leaves room to burst.
   * Suits development and light use; pick a preset for production.
   */
  public static minimal(): EtcdResources {
    return EtcdResources.custom({ cpuRequestMillis: 250, memoryRequest: Size.mebibytes(512) });
  }

  /** Fewer than 100 clients, 200 requests/s and 100 MB of data: 2 CPU, 8 GiB. */
  public static small(options: EtcdResourcePresetOptions = {}): EtcdResources {
    return EtcdResources.preset(2000, 8, options);
  }

  /** Fewer than 500 clients, 1000 requests/s and 500 MB of data: 4 CPU, 16 GiB. */
  public static medium(options: EtcdResourcePresetOptions = {}): EtcdResources {
    return EtcdResources.preset(4000, 16, options);
  }

  /** Fewer than 1500 clients, 10000 requests/s and 1 GB of data: 8 CPU, 32 GiB. */
  public static large(options: EtcdResourcePresetOptions = {}): EtcdResources {
    return EtcdResources.preset(8000, 32, options);
  }

  /** More than 1500 clients, 10000 requests/s or 1 GB of data: 16 CPU, 64 GiB. */
  public static xlarge(options: EtcdResourcePresetOptions = {}): EtcdResources {
    return EtcdResources.preset(16000, 64, options);
  }

  /** Exactly these requests and limits. */
  public static custom(props: EtcdResourcesProps): EtcdResources {
    return new EtcdResources(props);
  }

  private static preset(cpuMillis: number, memoryGibibytes: number, options: EtcdResourcePresetOptions): EtcdResources {
    const memory = Size.gibibytes(memoryGibibytes);
    return new EtcdResources({
      cpuRequestMillis: cpuMillis,
      memoryRequest: memory,
      cpuLimitMillis: options.guaranteed ? cpuMillis : undefined,
      memoryLimit: memory,
    });
  }

  private constructor(private readonly props: EtcdResourcesProps) {
    validateInteger('resources.cpuRequestMillis', props.cpuRequestMillis, 1);
    if (props.cpuLimitMillis !== undefined) {
      validateNumber('resources.cpuLimitMillis', props.cpuLimitMillis);
      if (!Number.isInteger(props.cpuLimitMillis) || props.cpuLimitMillis < props.cpuRequestMillis) {
        throw new EtcdConfigError(`resources.cpuLimitMillis must be a whole number of millicores, at least resources.cpuRequestMillis (${props.cpuRequestMillis}) (got ${props.cpuLimitMillis}): Kubernetes rejects a limit below the request`);
      }
    }
    const requestBytes = memoryBytes('resources.memoryRequest', props.memoryRequest);
    if (props.memoryLimit !== undefined) {
      const limitBytes = memoryBytes('resources.memoryLimit', props.memoryLimit);
      if (limitBytes < requestBytes) {
        throw new EtcdConfigError(`resources.memoryLimit must not be below resources.memoryRequest (${props.memoryRequest.asString()}) (got ${props.memoryLimit.asString()}): Kubernetes rejects a limit below the request`);
      }
    }
  }

  /** Whether requests equal limits for both CPU and memory (the Guaranteed QoS class). */
  public get isGuaranteed(): boolean {
    const p = this.props;
    return p.cpuLimitMillis === p.cpuRequestMillis
      && p.memoryLimit !== undefined && bytesOf(p.memoryLimit) === bytesOf(p.memoryRequest);
  }

  /**
   * `GOMEMLIMIT` for the etcd container when memory is limited: 90% of the limit, so the Go runtime
   * collects garbage harder as it nears the limit instead of being killed by the kernel.
   * @internal
   */
  public _goMemLimitEnv(): k8s.EnvVar[] {
    if (this.props.memoryLimit === undefined) return [];
    const mebibytes = Math.floor((bytesOf(this.props.memoryLimit) * GO_MEMORY_LIMIT_SHARE) / MIB);
    return [{ name: 'GOMEMLIMIT', value: `${mebibytes}MiB` }];
  }

  /** @internal */
  public _toKube(): k8s.ResourceRequirements {
    const p = this.props;
    const limits: { [key: string]: k8s.Quantity } = {};
    if (p.cpuLimitMillis !== undefined) limits.cpu = k8s.Quantity.fromString(`${p.cpuLimitMillis}m`);
    if (p.memoryLimit !== undefined) limits.memory = k8s.Quantity.fromString(p.memoryLimit.asString());
    return {
      requests: {
        cpu: k8s.Quantity.fromString(`${p.cpuRequestMillis}m`),
        memory: k8s.Quantity.fromString(p.memoryRequest.asString()),
      },
      limits: Object.keys(limits).length > 0 ? limits : undefined,
    };
  }
}

/** The share of the memory limit given to the Go runtime; the rest covers memory Go does not manage. */
const GO_MEMORY_LIMIT_SHARE = 0.9;
/** An empty etcd member peaks at about 30 MiB (measured on 3.5.35, 3.6.16 and 3.7.3); below this it cannot run. */
const MIN_MEMORY_BYTES = 64 * MIB;

/** A memory size in whole bytes, at least what etcd needs to start. */
function memoryBytes(property: string, size: Size): number {
  const bytes = bytesOf(size);
  if (!Number.isInteger(bytes) || bytes < MIN_MEMORY_BYTES) {
    throw new EtcdConfigError(`${property} must be a whole number of bytes, at least 64 MiB (got ${size.asString()}): an empty etcd member already uses about 30 MiB, and it grows with the data`);
  }
  return bytes;
}
