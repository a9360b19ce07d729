//! The allocator's hold on memory: a long-running service that now and then builds a dataset
//! version's worth of data (an import, a new snapshot) should give it back afterwards.

/// glibc gives each thread that allocates its own arena (up to eight per core), and memory
/// freed in one is not reused by another: with large responses built on several threads the
/// resident size grows well past what is in use. Two arenas keep it near the working set.
/// Call before any other thread exists.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; the caller runs before other threads.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// Returns the heap's free pages to the operating system. glibc keeps what an import or a
/// snapshot build freed (hundreds of MB at national scale) as part of the process; the soak
/// test saw the resident size stay 170 MB above its level before an import over HTTP.
pub fn release_free() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory; it is safe to call from any thread.
    unsafe {
        libc::malloc_trim(0);
    }
}
