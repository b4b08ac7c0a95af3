//! Overlapping computation with writing.
//!
//! The calling thread reads input bands and runs the kernels (in parallel
//! on the rayon pool) one batch at a time; a writer thread writes each
//! finished batch while the next one is computed, and hands the buffer
//! back for reuse, so steady-state runs allocate nothing and touch no
//! fresh memory. At most two batches are in flight, which bounds memory.

use anyhow::{Result, anyhow};
use std::sync::mpsc;

/// The producer's end: send finished batches, take back spent buffers.
pub struct Pipe<B> {
    tx: mpsc::SyncSender<B>,
    spares: mpsc::Receiver<B>,
}

impl<B> Pipe<B> {
    /// Hands a finished batch to the writer.
    ///
    /// # Errors
    /// If the writer has stopped (its own error is reported instead).
    pub fn send(&self, batch: B) -> Result<()> {
        self.tx.send(batch).map_err(|_| anyhow!("the writer stopped"))
    }

    /// A buffer the writer is done with, if one is back yet.
    pub fn spare(&self) -> Option<B> {
        self.spares.try_recv().ok()
    }
}

/// Runs `produce` on this thread and `consume` on a writer thread, joined
/// by a queue of one batch. `consume` returns each buffer for reuse.
///
/// # Errors
/// The writer's error if it failed (a failed write is the root cause of
/// anything the producer then sees), otherwise the producer's.
pub fn pipelined<B: Send>(
    produce: impl FnOnce(&Pipe<B>) -> Result<()>,
    mut consume: impl FnMut(B) -> Result<B> + Send,
) -> Result<()> {
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::sync_channel::<B>(1);
        let (spare_tx, spares) = mpsc::sync_channel::<B>(2);
        let writer = scope.spawn(move || -> Result<()> {
            for batch in rx {
                let spent = consume(batch)?;
                let _ = spare_tx.try_send(spent);
            }
            Ok(())
        });
        let pipe = Pipe { tx, spares };
        let produced = produce(&pipe);
        drop(pipe);
        let written = writer.join().unwrap_or_else(|_| Err(anyhow!("the writer thread panicked")));
        written.and(produced)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_arrive_in_order_and_buffers_come_back() {
        let mut seen = Vec::new();
        let mut reused = 0;
        pipelined(
            |pipe| {
                for i in 0..100u32 {
                    let mut buf: Vec<u32> = match pipe.spare() {
                        Some(b) => {
                            reused += 1;
                            b
                        }
                        None => Vec::new(),
                    };
                    buf.clear();
                    buf.push(i);
                    pipe.send(buf)?;
                }
                Ok(())
            },
            |b: Vec<u32>| {
                seen.push(b[0]);
                Ok(b)
            },
        )
        .unwrap();
        assert_eq!(seen, (0..100).collect::<Vec<_>>());
        assert!(reused > 0);
    }

    #[test]
    fn writer_error_wins() {
        let err = pipelined(
            |pipe| {
                for i in 0..10 {
                    pipe.send(i)?;
                }
                Ok(())
            },
            |i: i32| if i == 3 { Err(anyhow!("disk full")) } else { Ok(i) },
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "disk full");
    }
}
