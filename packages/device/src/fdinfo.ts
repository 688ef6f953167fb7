/**
 * A client's usage in the DRM fdinfo format (Documentation/gpu/drm-usage-stats.rst), built
 * as a DrmFdinfo and printed by @hmmkit/fdinfo's formatter: drm-driver, drm-client-id,
 * drm-pdev, drm-client-name, then drm-engine-<name> in ns for every engine (with
 * drm-engine-capacity-<name> when it has more than one instance), then drm-total- and
 * drm-resident- for the regions `system` (RAM) and `vram` (device memory: the pool pages
 * charged to the client when the device has pools, else the device pages it maps).
 */
import type { DrmFdinfo } from '@hmmkit/fdinfo';
import type { DeviceContext } from './context.js';

/** Builds the DrmFdinfo of `ctx`. Mirrors drm_show_fdinfo() + the driver's show_fdinfo. */
export function clientFdinfo(
  ctx: DeviceContext,
  driver: string,
  pdev: string | undefined,
  engines: ReadonlyArray<{ name: string; capacity: number }>,
  vramBytes: number | undefined,
): DrmFdinfo {
  const info: DrmFdinfo = { driver, clientId: ctx.clientId, engines: {}, memory: {}, other: {} };
  if (pdev !== undefined) info.pdev = pdev;
  if (ctx.clientName !== undefined) info.clientName = ctx.clientName;
  for (const e of engines) {
    const busyNs = BigInt(ctx.busyNs(e.name));
    info.engines[e.name] = e.capacity > 1 ? { busyNs, capacity: e.capacity } : { busyNs };
  }
  const r = ctx.residentBytes;
  info.memory.system = { total: r.system, resident: r.system };
  const vram = vramBytes ?? r.vram;
  info.memory.vram = { total: vram, resident: vram };
  return info;
}
