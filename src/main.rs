fn main() -> std::process::ExitCode {
    boligsocial::cli::run()
}
