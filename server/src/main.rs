//! The `qhall-server` binary: parse the configuration, start logging, bind, and run.

use std::process::ExitCode;

use clap::Parser;
use qhall_server::config::{Cli, Command, Config};

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The simulator needs no server configuration (and its --policy may be `all`).
    if let Some(Command::Simulate(args)) = &cli.command {
        return match qhall_server::sim::run_cli(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("qhall-server: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    let config = match Config::resolve(&cli.opts) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("qhall-server: {e:#}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&config.log).unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|rt| rt.block_on(dispatch(cli.command, config)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("qhall-server: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(command: Option<Command>, config: Config) -> anyhow::Result<()> {
    match command {
        None | Some(Command::Serve) => {
            let listener = tokio::net::TcpListener::bind(&config.listen)
                .await
                .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
            qhall_server::run(config, listener, shutdown_signal()).await
        }
        Some(Command::Migrate) => qhall_server::admin::migrate(&config).await,
        Some(Command::MigrateData(args)) => qhall_server::admin::migrate_data(&args).await,
        Some(Command::User(cmd)) => qhall_server::admin::user(&config, cmd).await,
        Some(Command::Device(cmd)) => qhall_server::admin::device(&config, cmd).await,
        Some(Command::Branch(cmd)) => qhall_server::admin::branch(&config, cmd).await,
        Some(Command::Simulate(args)) => qhall_server::sim::run_cli(&args),
        Some(Command::Backup(arg)) => qhall_server::admin::backup(&config, &arg.file).await,
        Some(Command::Restore(arg)) => qhall_server::admin::restore(&config, &arg.file).await,
        Some(Command::Check) => qhall_server::admin::check(&config).await,
    }
}

/// SIGINT (Ctrl-C) or SIGTERM: finish requests in flight, then stop.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
