//! Where the ticket bytes go: a network printer (`tcp://host:9100`), a device file
//! (`/dev/usb/lp0`), an ordinary file (for testing), or nowhere.

use std::fmt;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use super::escpos::{self, Layout};
use super::{PrintError, PrintJob, Printer};

/// A printer target as configured (`--printer`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// No printer: the screen asks the customer to note the number.
    None,
    /// A network printer's raw port, `host:port`.
    Tcp(String),
    /// A character device that must already exist (`/dev/usb/lp0`, `/dev/ttyUSB0`).
    Device(PathBuf),
    /// An ordinary file, created if missing; tickets are appended.
    File(PathBuf),
}

impl Target {
    /// `none`, `tcp://host[:port]` (port 9100 by default), `file:PATH`, `/dev/...`, or any
    /// other path (a file).
    pub fn parse(s: &str) -> Result<Target, String> {
        let s = s.trim();
        if s.is_empty() || s == "none" {
            Ok(Target::None)
        } else if let Some(rest) = s.strip_prefix("tcp://") {
            let rest = rest.trim_end_matches('/');
            if rest.is_empty() {
                return Err("tcp:// needs a host, like tcp://192.0.2.10:9100".into());
            }
            // An IPv6 literal is bracketed; a port is whatever follows the last colon after it.
            let has_port = rest
                .rsplit_once(':')
                .is_some_and(|(h, p)| !h.ends_with('[') && p.parse::<u16>().is_ok())
                && !(rest.starts_with('[') && rest.ends_with(']'));
            Ok(Target::Tcp(if has_port {
                rest.to_owned()
            } else {
                format!("{rest}:9100")
            }))
        } else if let Some(rest) = s.strip_prefix("file:") {
            Ok(Target::File(PathBuf::from(rest.trim_start_matches("//"))))
        } else if s.starts_with("/dev/") {
            Ok(Target::Device(PathBuf::from(s)))
        } else if s.contains("://") {
            Err(format!(
                "unknown printer target {s:?}: use none, tcp://host:9100, /dev/usb/lp0 or a file path"
            ))
        } else {
            Ok(Target::File(PathBuf::from(s)))
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::None => f.write_str("none"),
            Target::Tcp(addr) => write!(f, "tcp://{addr}"),
            Target::Device(p) => write!(f, "{}", p.display()),
            Target::File(p) => write!(f, "file:{}", p.display()),
        }
    }
}

/// An ESC/POS printer at a [`Target`].
#[derive(Debug, Clone)]
pub struct EscPosPrinter {
    pub target: Target,
    pub layout: Layout,
    /// Connect and write timeout for network printers.
    pub timeout: Duration,
    /// How long to wait for the paper status answer before printing anyway (a printer that
    /// does not answer `DLE EOT` is not a reason to refuse a ticket).
    pub status_timeout: Duration,
}

impl EscPosPrinter {
    pub fn new(target: Target, layout: Layout) -> Self {
        EscPosPrinter {
            target,
            layout,
            timeout: Duration::from_secs(3),
            status_timeout: Duration::from_millis(300),
        }
    }

    fn print_tcp(&self, addr: &str, bytes: &[u8]) -> Result<(), PrintError> {
        let sock = addr
            .to_socket_addrs()
            .map_err(|e| PrintError::Offline(format!("{addr}: {e}")))?
            .next()
            .ok_or_else(|| PrintError::Offline(format!("{addr}: no address")))?;
        let mut stream = TcpStream::connect_timeout(&sock, self.timeout)
            .map_err(|e| PrintError::Offline(format!("{addr}: {e}")))?;
        stream
            .set_write_timeout(Some(self.timeout))
            .map_err(|e| PrintError::Write(e.to_string()))?;
        stream.set_nodelay(true).ok();
        // Ask for the paper status first; only a clear "paper out" answer stops the ticket.
        stream
            .write_all(&escpos::PAPER_STATUS_QUERY)
            .map_err(|e| PrintError::Write(e.to_string()))?;
        stream
            .set_read_timeout(Some(self.status_timeout))
            .map_err(|e| PrintError::Write(e.to_string()))?;
        let mut status = [0u8; 1];
        if let Ok(1) = stream.read(&mut status)
            && escpos::paper_out(status[0])
        {
            return Err(PrintError::NoPaper);
        }
        stream
            .write_all(bytes)
            .map_err(|e| PrintError::Write(e.to_string()))?;
        stream
            .flush()
            .map_err(|e| PrintError::Write(e.to_string()))?;
        Ok(())
    }
}

impl Printer for EscPosPrinter {
    fn present(&self) -> bool {
        self.target != Target::None
    }

    fn print(&self, job: &PrintJob) -> Result<(), PrintError> {
        let bytes = escpos::encode(job, self.layout);
        match &self.target {
            Target::None => Ok(()),
            Target::Tcp(addr) => self.print_tcp(addr, &bytes),
            Target::Device(path) => {
                let mut dev = std::fs::OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(|e| PrintError::Offline(format!("{}: {e}", path.display())))?;
                dev.write_all(&bytes)
                    .map_err(|e| PrintError::Write(e.to_string()))?;
                dev.flush().map_err(|e| PrintError::Write(e.to_string()))
            }
            Target::File(path) => {
                let mut file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| PrintError::Offline(format!("{}: {e}", path.display())))?;
                file.write_all(&bytes)
                    .map_err(|e| PrintError::Write(e.to_string()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_from_their_written_forms() {
        assert_eq!(Target::parse("none"), Ok(Target::None));
        assert_eq!(Target::parse(""), Ok(Target::None));
        assert_eq!(
            Target::parse("tcp://192.0.2.7:9100"),
            Ok(Target::Tcp("192.0.2.7:9100".into()))
        );
        assert_eq!(
            Target::parse("tcp://printer.local"),
            Ok(Target::Tcp("printer.local:9100".into()))
        );
        assert_eq!(
            Target::parse("tcp://[::1]:9101"),
            Ok(Target::Tcp("[::1]:9101".into()))
        );
        assert_eq!(
            Target::parse("tcp://[::1]"),
            Ok(Target::Tcp("[::1]:9100".into()))
        );
        assert_eq!(
            Target::parse("/dev/usb/lp0"),
            Ok(Target::Device("/dev/usb/lp0".into()))
        );
        assert_eq!(
            Target::parse("file:/tmp/t.bin"),
            Ok(Target::File("/tmp/t.bin".into()))
        );
        assert_eq!(
            Target::parse("tickets.bin"),
            Ok(Target::File("tickets.bin".into()))
        );
        assert!(Target::parse("usb://x").is_err());
        assert!(Target::parse("tcp://").is_err());
    }

    #[test]
    fn a_missing_device_is_offline_and_a_file_collects_tickets() {
        let dir = tempfile::tempdir().unwrap();
        let job = super::super::escpos::tests::job();
        let dev = EscPosPrinter::new(Target::Device(dir.path().join("lp0")), Layout::default());
        assert!(matches!(dev.print(&job), Err(PrintError::Offline(_))));
        let path = dir.path().join("tickets.bin");
        let file = EscPosPrinter::new(Target::File(path.clone()), Layout::default());
        file.print(&job).unwrap();
        file.print(&job).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(
            bytes.len(),
            2 * escpos::encode(&job, Layout::default()).len()
        );
    }
}
