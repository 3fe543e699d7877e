//! `qhall-kiosk`: parses the configuration and runs the kiosk. See `docs/kiosk.md`.

use clap::Parser;

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let config = qhall_kiosk::config::Config::load(qhall_kiosk::config::Args::parse())?;
    qhall_kiosk::run(&config)
}
