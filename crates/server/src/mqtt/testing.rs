//! A private Mosquitto for tests and benchmarks: its own port and persistence folder, so it can
//! be restarted without touching the machine's broker.

use std::process::{Child, Command};
use std::time::Duration;

/// A private Mosquitto: its own port and persistence folder, so it can be stopped and started.
pub struct Broker {
    child: Option<Child>,
    pub port: u16,
    dir: std::path::PathBuf,
}

fn mosquitto_bin() -> String {
    for c in ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"] {
        if std::path::Path::new(c).exists() {
            return c.to_string();
        }
    }
    "mosquitto".into()
}

impl Broker {
    pub async fn start() -> Broker {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let dir = std::env::temp_dir().join(format!("jiesu-mqtt-{port}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("broker dir");
        // Mosquitto started as root drops to its own user, which must be able to write here.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).expect("chmod");
        let mut b = Broker {
            child: None,
            port,
            dir,
        };
        b.up().await;
        b
    }

    /// `mqtt://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }

    async fn up(&mut self) {
        let conf = self.dir.join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!(
                "listener {} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location {}/\nmax_queued_messages 0\nmax_inflight_messages 1000\nlog_dest file {}/log\nlog_type error\nlog_type warning\nlog_type notice\n",
                self.port,
                self.dir.display(),
                self.dir.display()
            ),
        )
        .expect("broker conf");
        let child = Command::new(mosquitto_bin())
            .arg("-c")
            .arg(&conf)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("mosquitto must be installed (apt-get install mosquitto)");
        self.child = Some(child);
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("mosquitto did not start on {}", self.port);
    }

    /// Stops the broker as an operator would (SIGTERM: it saves its persistent sessions).
    pub async fn restart(&mut self) {
        self.down();
        tokio::time::sleep(Duration::from_millis(300)).await;
        self.up().await;
    }

    fn down(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(c.id().to_string())
                .status();
            let _ = c.wait();
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.down();
        if std::thread::panicking() {
            eprintln!(
                "{}",
                std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
            );
        }
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
