//! The kiosk's settings: defaults → config file → `QHALL_*` environment → flags.
//!
//! The defaults reach the demo hall (`http://127.0.0.1:8080`, token `demo-kiosk`) with no
//! printer, so `cargo run -p qhall-kiosk` works next to `qhall-server --demo`. The token is
//! never printed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use serde::Deserialize;

use crate::i18n::Lang;
use crate::printer::{ChineseMode, Layout, Paper, Target};

/// Command line and environment.
#[derive(Debug, Parser)]
#[command(
    name = "qhall-kiosk",
    about = "The Qhall kiosk: customers choose a service and take a ticket"
)]
pub struct Args {
    /// The server's base URL.
    #[arg(long, env = "QHALL_SERVER")]
    pub server: Option<String>,
    /// The kiosk's device token.
    #[arg(long, env = "QHALL_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// A CA certificate (PEM) to trust besides the system's, for a server whose https
    /// certificate comes from the hall's own CA.
    #[arg(long, env = "QHALL_CA_FILE")]
    pub ca_file: Option<PathBuf>,
    /// A TOML file with any of: server, token, ca_file, printer, paper, chinese, lang,
    /// timeout_ms, fullscreen, width, height.
    #[arg(long, env = "QHALL_KIOSK_CONFIG")]
    pub config: Option<PathBuf>,
    /// Fill the screen (a kiosk); without it, a window of --width × --height.
    #[arg(long, env = "QHALL_FULLSCREEN")]
    pub fullscreen: bool,
    /// Window size when not full screen.
    #[arg(long)]
    pub width: Option<u32>,
    #[arg(long)]
    pub height: Option<u32>,
    /// Printer: none, tcp://HOST[:9100], /dev/usb/lp0, file:PATH or a path.
    #[arg(long, env = "QHALL_PRINTER")]
    pub printer: Option<String>,
    /// Paper width: 58 or 80 (mm).
    #[arg(long, env = "QHALL_PAPER")]
    pub paper: Option<String>,
    /// How Chinese is printed: raster (any printer) or gb18030 (printers with a Chinese font).
    #[arg(long, env = "QHALL_PRINTER_CHINESE")]
    pub chinese: Option<String>,
    /// Default language: zh, zh-Hant or en.
    #[arg(long, env = "QHALL_LANG")]
    pub lang: Option<String>,
    /// Request timeout in milliseconds (a ticket request that times out is retried).
    #[arg(long, env = "QHALL_TIMEOUT_MS")]
    pub timeout_ms: Option<u64>,
}

/// The config file: the same keys as the flags.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub server: Option<String>,
    pub token: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub printer: Option<String>,
    pub paper: Option<String>,
    pub chinese: Option<String>,
    pub lang: Option<String>,
    pub timeout_ms: Option<u64>,
    pub fullscreen: Option<bool>,
    pub width: Option<u32>,
    pub height: Option<u32>,
}

/// Everything resolved.
#[derive(Clone)]
pub struct Config {
    pub server: String,
    pub token: String,
    /// Trusted besides the system's certificate authorities (https only).
    pub ca_file: Option<PathBuf>,
    pub printer: Target,
    pub layout: Layout,
    pub lang: Lang,
    pub timeout: Duration,
    pub fullscreen: bool,
    pub width: u32,
    pub height: u32,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("server", &self.server)
            .field("token", &"<hidden>")
            .field("ca_file", &self.ca_file)
            .field("printer", &self.printer.to_string())
            .field("layout", &self.layout)
            .field("lang", &self.lang)
            .field("timeout", &self.timeout)
            .field("fullscreen", &self.fullscreen)
            .finish()
    }
}

pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";
pub const DEFAULT_TOKEN: &str = "demo-kiosk";

impl Config {
    /// Reads the config file named by `args` (if any) and merges.
    pub fn load(args: Args) -> anyhow::Result<Config> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        Config::merge(args, file)
    }

    /// Flags and environment win over the file; the file wins over the defaults.
    pub fn merge(args: Args, file: FileConfig) -> anyhow::Result<Config> {
        let printer = args
            .printer
            .or(file.printer)
            .unwrap_or_else(|| "none".into());
        let paper = args.paper.or(file.paper).unwrap_or_else(|| "80".into());
        let chinese = args
            .chinese
            .or(file.chinese)
            .unwrap_or_else(|| "raster".into());
        let lang = args.lang.or(file.lang).unwrap_or_else(|| "zh".into());
        let server = args
            .server
            .or(file.server)
            .unwrap_or_else(|| DEFAULT_SERVER.into());
        if !(server.starts_with("http://") || server.starts_with("https://")) {
            anyhow::bail!("the server address must start with http:// or https://, not {server:?}");
        }
        Ok(Config {
            server,
            token: args
                .token
                .or(file.token)
                .unwrap_or_else(|| DEFAULT_TOKEN.into()),
            ca_file: args.ca_file.or(file.ca_file),
            printer: Target::parse(&printer).map_err(anyhow::Error::msg)?,
            layout: Layout {
                paper: Paper::parse(&paper)
                    .with_context(|| format!("paper must be 58 or 80, not {paper:?}"))?,
                chinese: ChineseMode::parse(&chinese).with_context(|| {
                    format!("chinese must be raster or gb18030, not {chinese:?}")
                })?,
            },
            lang: Lang::parse(&lang)
                .with_context(|| format!("lang must be zh, zh-Hant or en, not {lang:?}"))?,
            timeout: Duration::from_millis(
                args.timeout_ms.or(file.timeout_ms).unwrap_or(3000).max(200),
            ),
            fullscreen: args.fullscreen || file.fullscreen.unwrap_or(false),
            width: args.width.or(file.width).unwrap_or(1080),
            height: args.height.or(file.height).unwrap_or(1920),
        })
    }
}

fn read_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Args {
        Args::try_parse_from(std::iter::once("qhall-kiosk").chain(list.iter().copied())).unwrap()
    }

    #[test]
    fn defaults_reach_the_demo_hall_without_a_printer() {
        let c = Config::merge(args(&[]), FileConfig::default()).unwrap();
        assert_eq!(c.server, "http://127.0.0.1:8080");
        assert_eq!(c.token, "demo-kiosk");
        assert_eq!(c.printer, Target::None);
        assert_eq!(
            c.layout,
            Layout {
                paper: Paper::Mm80,
                chinese: ChineseMode::Raster
            }
        );
        assert_eq!(c.lang, Lang::Zh);
        assert!(
            !format!("{c:?}").contains("demo-kiosk"),
            "the token is never printed"
        );
    }

    #[test]
    fn flags_win_over_the_file() {
        let file: FileConfig = toml::from_str(
            "server = \"http://hall:8080\"\ntoken = \"t1\"\nprinter = \"tcp://10.0.0.9\"\npaper = \"58\"\nlang = \"en\"\n",
        )
        .unwrap();
        let c = Config::merge(args(&["--token", "t2", "--chinese", "gb18030"]), file).unwrap();
        assert_eq!(c.server, "http://hall:8080");
        assert_eq!(c.token, "t2");
        assert_eq!(c.printer, Target::Tcp("10.0.0.9:9100".into()));
        assert_eq!(
            c.layout,
            Layout {
                paper: Paper::Mm58,
                chinese: ChineseMode::Gb18030
            }
        );
        assert_eq!(c.lang, Lang::En);
    }

    #[test]
    fn bad_values_are_refused_with_a_reason() {
        let bad = [
            ["--paper", "60"],
            ["--lang", "fr"],
            ["--printer", "usb://x"],
            ["--server", "hall:8080"],
        ];
        for a in bad {
            assert!(
                Config::merge(args(&a), FileConfig::default()).is_err(),
                "{a:?}"
            );
        }
        assert!(toml::from_str::<FileConfig>("colour = \"red\"").is_err());
    }

    /// `deploy/kiosk.toml`, the example a hall's IT copies to /etc/qhall, is read by this very
    /// code, so a renamed setting breaks this test instead of a kiosk's first start.
    #[test]
    fn the_example_deploy_file_is_a_valid_configuration() {
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/kiosk.toml");
        let c = Config::merge(args(&[]), read_file(&example).unwrap()).unwrap();
        assert_eq!(c.server, "https://queue.example.org");
        assert_eq!(c.printer, Target::Device("/dev/usb/lp0".into()));
        assert!(c.fullscreen);
    }
}
