//! A router served in the background, what each local sandbox (Autotask,
//! Graph, Google Admin) runs on: it stops with a graceful shutdown when
//! [`Served::shutdown`] is awaited or when it is dropped.

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub struct Served {
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Served {
    /// Serves `app` on `listener` (already bound) in a background task.
    pub fn spawn(listener: tokio::net::TcpListener, app: axum::Router) -> Served {
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await;
        });
        Served { stop: Some(tx), task: Some(task) }
    }

    /// Stops serving and waits until the server has stopped.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}
