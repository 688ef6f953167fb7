/**
 * The values of one DRM client's fdinfo (kernel Documentation/gpu/drm-usage-stats.rst).
 *
 * Counters that the kernel prints as u64 (`drm-engine-*` ns, `drm-cycles-*`,
 * `drm-total-cycles-*`) stay exact as `bigint`: 2^53 ns is only ~104 days of busy
 * time. Memory sizes are bytes as `number` (exact up to 8 PiB).
 */
export interface DrmFdinfo {
  /** `drm-driver`: the name in `struct drm_driver` (mandatory key). */
  driver: string;
  /** `drm-pdev`: PCI slot address `aaaa:bb:cc.d` (PCI devices only). */
  pdev?: string;
  /** `drm-client-id`: one per `struct drm_file`, decimal u64 kept as a string. */
  clientId?: string;
  /** `drm-client-name`: set by userspace with DRM_IOCTL_SET_CLIENT_NAME. */
  clientName?: string;
  /** Per engine name (`drm-engine-<name>` and friends). */
  engines: Record<string, DrmEngineStats>;
  /** Per memory region name (`drm-total-<region>` and friends), in bytes. */
  memory: Record<string, DrmMemoryStats>;
  /** Every key this parser does not interpret (`pos`, `pasid`, `v3d-jobs-*`, ...), value as printed. */
  other: Record<string, string>;
}

/** One engine's counters: `drm-engine-`, `-capacity-`, `drm-cycles-`, `drm-total-cycles-`, `drm-maxfreq-`. */
export interface DrmEngineStats {
  busyNs?: bigint;
  capacity?: number;
  cycles?: bigint;
  totalCycles?: bigint;
  maxFreqHz?: number;
}

/** One region's sizes in bytes: `drm-total-`, `-shared-`, `-active-`, `-resident-`, `-purgeable-`. */
export interface DrmMemoryStats {
  total?: number;
  shared?: number;
  active?: number;
  resident?: number;
  purgeable?: number;
}

/** Options of {@link parseFdinfo}. */
export interface ParseFdinfoOptions {
  /** Throw an {@link FdinfoSyntaxError} listing every malformed line instead of skipping them. */
  strict?: boolean;
}

/** One (pid, fd) that refers to a DRM client. */
export interface DrmHolder {
  pid: number;
  fd: number;
}

/** One DRM client after dedup by (pdev or device node, client id). */
export interface DrmClientSample {
  /** `<pdev or device node>/<client id>`; without a client id, `<device>/pid:fd`. */
  key: string;
  /** The owner: the first holder met in the scan (lowest pid, then lowest fd). */
  pid: number;
  fd: number;
  /** Every (pid, fd) that refers to this client (dup(2), fork inheritance, SCM_RIGHTS). */
  holders: DrmHolder[];
  /** The owner's command name (`<root>/<pid>/comm`), when readable. */
  comm?: string;
  /** Where the fd link points (`/dev/dri/renderD128`). */
  device: string;
  /** Parsed fdinfo; shared with later samples while the file is unchanged, so treat it as read-only. */
  info: DrmFdinfo;
  /** Monotonic time (process.hrtime.bigint) at which `info` was read. */
  timestampNs: bigint;
}
