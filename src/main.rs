fn main() -> std::process::ExitCode {
    limit_malloc_arenas();
    boligsocial::cli::run()
}

/// glibc gives each thread that allocates its own arena (up to eight per core), and memory
/// freed in one is not reused by another: with large responses built on several threads the
/// resident size grows well past what is in use. Two arenas keep it near the working set.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}
