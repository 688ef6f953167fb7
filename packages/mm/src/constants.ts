/**
 * User-visible constants with the Linux x86-64 values: page geometry, mmap prot and flags,
 * madvise advice, GUP flags, fault flags and VM_FAULT_* results.
 */

/** Size of a base page in bytes (PAGE_SIZE). */
export const PAGE_SIZE = 4096;
/** log2(PAGE_SIZE) (PAGE_SHIFT). */
export const PAGE_SHIFT = 12;
/** Size of a PMD-mapped huge page in bytes (HPAGE_PMD_SIZE, 2 MiB). */
export const PMD_SIZE = 2 * 1024 * 1024;
/** Order of a PMD-mapped huge page (HPAGE_PMD_ORDER). */
export const PMD_ORDER = 9;
/** End of the user address space, exclusive (TASK_SIZE on x86-64 with 4-level paging). */
export const TASK_SIZE = 2 ** 47;
/** Lowest address MAP_FIXED may use (vm.mmap_min_addr default). */
export const MMAP_MIN_ADDR = 65536;

/** Page protection bits for mmap()/mprotect(). */
export const PROT_NONE = 0;
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const PROT_EXEC = 4;

/** mmap() flags. */
export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_SHARED_VALIDATE = 0x03;
export const MAP_TYPE = 0x0f;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_POPULATE = 0x8000;
export const MAP_FIXED_NOREPLACE = 0x100000;
export const MAP_HUGETLB = 0x40000;

/** madvise() advice values. */
export const MADV_DONTNEED = 4;
export const MADV_FREE = 8;
export const MADV_DONTFORK = 10;
export const MADV_DOFORK = 11;
export const MADV_HUGEPAGE = 14;
export const MADV_NOHUGEPAGE = 15;

/** GUP flags (enum gup_flags in include/linux/mm_types.h, v6.x values). */
export const FOLL_WRITE = 0x01;
export const FOLL_GET = 0x02;
export const FOLL_FORCE = 0x08;
export const FOLL_LONGTERM = 0x100;
export const FOLL_SPLIT_PMD = 0x200;
/** Set internally by the *_remote variants (mm/internal.h); accepted and ignored. */
export const FOLL_REMOTE = 0x2000;

/** Fault flags (enum fault_flag). */
export const FAULT_FLAG_WRITE = 1 << 0;
export const FAULT_FLAG_MKWRITE = 1 << 1;
export const FAULT_FLAG_ALLOW_RETRY = 1 << 2;
export const FAULT_FLAG_RETRY_NOWAIT = 1 << 3;
export const FAULT_FLAG_KILLABLE = 1 << 4;
export const FAULT_FLAG_TRIED = 1 << 5;
export const FAULT_FLAG_USER = 1 << 6;
export const FAULT_FLAG_REMOTE = 1 << 7;
export const FAULT_FLAG_INSTRUCTION = 1 << 8;
export const FAULT_FLAG_INTERRUPTIBLE = 1 << 9;
export const FAULT_FLAG_UNSHARE = 1 << 10;

/** Fault results (enum vm_fault_reason). */
export const VM_FAULT_OOM = 0x000001;
export const VM_FAULT_SIGBUS = 0x000002;
export const VM_FAULT_MAJOR = 0x000004;
export const VM_FAULT_HWPOISON = 0x000010;
export const VM_FAULT_SIGSEGV = 0x000040;
export const VM_FAULT_NOPAGE = 0x000100;
export const VM_FAULT_LOCKED = 0x000200;
export const VM_FAULT_RETRY = 0x000400;
export const VM_FAULT_FALLBACK = 0x000800;
export const VM_FAULT_DONE_COW = 0x001000;
export const VM_FAULT_COMPLETED = 0x004000;
/** Any of these bits means the fault failed (VM_FAULT_ERROR). */
export const VM_FAULT_ERROR =
  VM_FAULT_OOM | VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV | VM_FAULT_HWPOISON | VM_FAULT_FALLBACK;

/** vm_area_struct flags (include/linux/mm.h values). */
export const VM_NONE = 0;
export const VM_READ = 0x1;
export const VM_WRITE = 0x2;
export const VM_EXEC = 0x4;
export const VM_SHARED = 0x8;
export const VM_MAYREAD = 0x10;
export const VM_MAYWRITE = 0x20;
export const VM_MAYEXEC = 0x40;
export const VM_MAYSHARE = 0x80;
export const VM_PFNMAP = 0x400;
export const VM_IO = 0x4000;
export const VM_DONTCOPY = 0x20000;
export const VM_HUGETLB = 0x400000;
export const VM_MIXEDMAP = 0x10000000;
export const VM_HUGEPAGE = 0x20000000;
export const VM_NOHUGEPAGE = 0x40000000;

/** mremap() flags. */
export const MREMAP_MAYMOVE = 1;
export const MREMAP_FIXED = 2;
export const MREMAP_DONTUNMAP = 4;
