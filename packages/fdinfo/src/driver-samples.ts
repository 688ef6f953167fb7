/*
 * Real DRM fdinfo texts, for tests, examples and synthetic trees. Samples marked
 * "published" are verbatim from the source named (documentation copies use spaces
 * where the kernel prints a TAB); "layout" samples follow the driver's printf
 * format strings, with made-up values.
 */

/** Published and layout fdinfo samples, by driver (see each entry's source). */
export const DRIVER_SAMPLES = {
  /** Published: Documentation/gpu/i915.rst, i915-usage-stats. */
  i915: `pos:    0
flags:  0100002
mnt_id: 21
drm-driver: i915
drm-pdev:   0000:00:02.0
drm-client-id:      7
drm-engine-render:  9288864723 ns
drm-engine-copy:    2035071108 ns
drm-engine-video:   0 ns
drm-engine-capacity-video:   2
drm-engine-video-enhance:   0 ns
`,
  /** Published: man-pages proc_pid_fdinfo.5 patch, "Direct Rendering Manager". */
  i915Memory: `pos:    0
flags:  02100002
mnt_id: 26
ino:    284
drm-driver:     i915
drm-client-id:  39
drm-pdev:       0000:00:02.0
drm-total-system0:      6044 KiB
drm-shared-system0:     0
drm-active-system0:     0
drm-resident-system0:   6044 KiB
drm-purgeable-system0:  1688 KiB
drm-total-stolen-system0:       0
drm-shared-stolen-system0:      0
drm-active-stolen-system0:      0
drm-resident-stolen-system0:    0
drm-purgeable-stolen-system0:   0
drm-engine-render:      346249 ns
drm-engine-copy:        0 ns
drm-engine-video:       0 ns
drm-engine-capacity-video:      2
drm-engine-video-enhance:       0 ns
`,
  /** Published: amdgpu_top issue #87 (2024), older amdgpu layout with drm-memory-* only. */
  amdgpuLegacy: `pos:    0
flags:  02104002
mnt_id: 24
ino:    614
pasid:  32784
drm-driver:     amdgpu
drm-pdev:       0000:08:00.0
drm-client-id:  217
drm-memory-vram:        2068 KiB
drm-memory-gtt:         8192 KiB
drm-memory-cpu:         0 KiB
drm-engine-gfx: 107322799 ns
`,
  /** Layout: amdgpu_fdinfo.c format strings (note the space before the TAB on two legacy keys). */
  amdgpu:
    'pos:\t0\nflags:\t02100002\nmnt_id:\t24\nino:\t1034\n' +
    'drm-driver:\tamdgpu\ndrm-client-id:\t1290\ndrm-pdev:\t0000:03:00.0\npasid:\t32781\n' +
    'drm-total-vram:\t16 MiB\ndrm-shared-vram:\t0\ndrm-resident-vram:\t16 MiB\ndrm-purgeable-vram:\t0\n' +
    'drm-total-gtt:\t23992 KiB\ndrm-shared-gtt:\t2048 KiB\ndrm-resident-gtt:\t23992 KiB\ndrm-purgeable-gtt:\t0\n' +
    'drm-total-cpu:\t0\ndrm-shared-cpu:\t0\ndrm-resident-cpu:\t0\ndrm-purgeable-cpu:\t0\n' +
    'drm-memory-vram:\t16384 KiB\ndrm-memory-gtt: \t23992 KiB\ndrm-memory-cpu: \t0 KiB\n' +
    'amd-evicted-vram:\t0 KiB\namd-requested-vram:\t16384 KiB\namd-requested-gtt:\t23992 KiB\n' +
    'drm-engine-gfx:\t5121940 ns\ndrm-engine-dec:\t1200 ns\ndrm-engine-dec:\t800 ns\n',
  /** Published: msm fdinfo patch (R. Clark, dri-devel 2022, v3). */
  msm:
    'pos:\t0\nflags:\t02400002\nmnt_id:\t21\nino:\t162\ndrm-driver:\tmsm\ndrm-client-id:\t7\n' +
    'drm-engine-gpu:\t1734371319 ns\ndrm-cycles-gpu:\t1153645024\ndrm-maxfreq-gpu:\t800000000 Hz\n',
  /** Published: v3d patch switching to drm_show_memory_stats() (M. Canal, drm-misc-next). */
  v3d: `pos:    0
flags:  02400002
mnt_id: 25
ino:    521
drm-driver:     v3d
drm-client-id:  81
drm-engine-bin:         4916187 ns
v3d-jobs-bin:   98 jobs
drm-engine-render:      154563573 ns
v3d-jobs-render:        98 jobs
drm-engine-tfu:         10574 ns
v3d-jobs-tfu:   1 jobs
drm-engine-csd:         0 ns
v3d-jobs-csd:   0 jobs
drm-engine-cache_clean:         0 ns
v3d-jobs-cache_clean:   0 jobs
drm-engine-cpu:         0 ns
v3d-jobs-cpu:   0 jobs
drm-total-memory:       15168 KiB
drm-shared-memory:      9336 KiB
drm-active-memory:      0
`,
  /** Layout: xe_drm_client.c (cycles + total-cycles, capacities, drm_print_memory_stats regions). */
  xe:
    'pos:\t0\nflags:\t02100002\nmnt_id:\t26\nino:\t685\ndrm-driver:\txe\ndrm-client-id:\t3302\n' +
    'drm-pdev:\t0000:00:02.0\ndrm-total-system:\t4 MiB\ndrm-shared-system:\t0\n' +
    'drm-active-system:\t0\ndrm-resident-system:\t4 MiB\ndrm-purgeable-system:\t0\n' +
    'drm-total-gtt:\t132 KiB\ndrm-shared-gtt:\t0\ndrm-active-gtt:\t0\ndrm-resident-gtt:\t132 KiB\n' +
    'drm-cycles-rcs:\t28257900\ndrm-total-cycles-rcs:\t7655183225\n' +
    'drm-cycles-bcs:\t0\ndrm-total-cycles-bcs:\t7655183225\n' +
    'drm-cycles-vcs:\t0\ndrm-total-cycles-vcs:\t7655183225\ndrm-engine-capacity-vcs:\t2\n' +
    'drm-cycles-vecs:\t0\ndrm-total-cycles-vecs:\t7655183225\ndrm-engine-capacity-vecs:\t2\n' +
    'drm-cycles-ccs:\t0\ndrm-total-cycles-ccs:\t7655183225\ndrm-engine-capacity-ccs:\t4\n',
  /** Layout: panfrost_drv.c show_fdinfo (ns, cycles, maxfreq, driver-specific curfreq). */
  panfrost:
    'pos:\t0\nflags:\t02400002\nmnt_id:\t23\nino:\t388\ndrm-driver:\tpanfrost\ndrm-client-id:\t12\n' +
    'drm-engine-fragment:\t1846584880 ns\ndrm-cycles-fragment:\t1424359409\n' +
    'drm-maxfreq-fragment:\t799999987 Hz\ndrm-curfreq-fragment:\t799999987 Hz\n' +
    'drm-engine-vertex-tiler:\t71932239 ns\ndrm-cycles-vertex-tiler:\t52617357\n' +
    'drm-maxfreq-vertex-tiler:\t799999987 Hz\ndrm-curfreq-vertex-tiler:\t799999987 Hz\n' +
    'drm-total-memory:\t290 MiB\ndrm-shared-memory:\t0\ndrm-active-memory:\t226 MiB\n' +
    'drm-resident-memory:\t36496 KiB\ndrm-purgeable-memory:\t128 KiB\n',
} as const satisfies Record<string, string>;

/** Name of a sample in {@link DRIVER_SAMPLES}. */
export type DriverSampleName = keyof typeof DRIVER_SAMPLES;
