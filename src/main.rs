fn main() -> std::process::ExitCode {
    boligsocial::memory::limit_arenas();
    boligsocial::cli::run()
}
