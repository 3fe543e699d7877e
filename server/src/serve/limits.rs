//! The connection limits ([`Limits`]) and the open-file limit they must fit under.

use std::time::Duration;

/// Descriptors kept free under the open-file limit for everything that is not a client
/// connection: the database and its journal, the log, a second listener, outgoing sockets.
pub const FD_HEADROOM: u64 = 512;
/// The cap on connections when none is configured (lowered to fit the open-file limit).
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// The cap on one client address's connections when none is configured: a tenth of the default
/// cap, far above what a hall's kiosks, boards and consoles behind one NAT address hold.
pub const DEFAULT_MAX_PER_ADDRESS: usize = 1_000;
/// The fewest connections ever allowed, whatever the open-file limit says.
const MIN_CONNECTIONS: usize = 16;

/// How long a client may take and how many may be connected (see [`super`]).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A request's headers must arrive within this, from the connection's start or the end of
    /// the previous answer (so also the idle keep-alive time).
    pub header_timeout: Duration,
    /// A request's whole body must arrive within this, from the request's start.
    pub body_timeout: Duration,
    /// A write to the client that makes no progress for this long closes the connection.
    pub send_timeout: Duration,
    /// Open connections at most (WebSockets included).
    pub max_connections: usize,
    /// Open connections one client address may hold at most (see [`super::PerAddress`]).
    pub max_per_address: usize,
}

impl Limits {
    /// The configured limits, the cap lowered to fit the open-file limit (raised first).
    pub fn from_config(config: &crate::Config) -> Limits {
        let fds = raise_open_file_limit();
        let fit = fds
            .map(|n| usize::try_from(n.saturating_sub(FD_HEADROOM)).unwrap_or(usize::MAX))
            .unwrap_or(usize::MAX)
            .max(MIN_CONNECTIONS);
        let wanted = config.max_connections;
        if wanted > fit {
            tracing::warn!(
                wanted,
                allowed = fit,
                open_file_limit = fds,
                "max_connections lowered to fit the open-file limit (raise it with LimitNOFILE= or ulimit -n)"
            );
        }
        Limits {
            header_timeout: config.header_timeout,
            body_timeout: config.body_timeout,
            send_timeout: config.send_timeout,
            max_connections: wanted.min(fit),
            max_per_address: config.max_connections_per_address,
        }
    }
}

/// Raises the soft open-file limit to the hard one (many systems start processes at 1,024
/// while allowing far more) and returns the soft limit now in force; `None` where there is no
/// such limit.
pub fn raise_open_file_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        match rlimit::increase_nofile_limit(u64::MAX) {
            Ok(n) => Some(n),
            Err(e) => {
                tracing::warn!(error = %e, "could not raise the open-file limit");
                rlimit::getrlimit(rlimit::Resource::NOFILE)
                    .ok()
                    .map(|(soft, _)| soft)
            }
        }
    }
    #[cfg(not(unix))]
    None
}
