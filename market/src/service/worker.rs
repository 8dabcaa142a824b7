//! A prover worker: claim a job, check the request is still open on-chain and can meet its
//! deadline, rebuild the witness, prove with the request's binding (on a blocking thread),
//! record `sending`, fulfil, record the outcome. Errors that another attempt can cure (the node,
//! the network) put the job back; the rest fail it with the reason.

use super::store::{now, Job};
use super::Shared;
use crate::{MarketError, Result};
use alloy::primitives::U256;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::sync::watch;

/// Attempts before a job that keeps failing transiently is given up.
const MAX_ATTEMPTS: i64 = 5;

pub async fn run(s: Arc<Shared>, mut stopped: watch::Receiver<bool>) {
    loop {
        if *stopped.borrow() {
            return;
        }
        match s.store.claim(s.config.lease_seconds, &s.config.instance).await {
            Ok(Some(job)) => {
                let id = job.request_id.clone();
                match process(&s, &job).await {
                    Ok(()) => {}
                    Err(e) => {
                        s.metrics.failures.fetch_add(1, Ordering::Relaxed);
                        let transient = matches!(e, MarketError::Rpc { .. } | MarketError::Unreachable { .. });
                        let state = if transient && job.attempts < MAX_ATTEMPTS { "queued" } else { "failed" };
                        tracing::warn!("request {id}: {e} ({state})");
                        let _ = s.store.set_state(&id, state, None, Some(&e.to_string())).await;
                    }
                }
                continue;
            }
            Ok(None) => {}
            Err(e) => tracing::warn!("claiming a job: {e}"),
        }
        tokio::select! {
            _ = stopped.changed() => return,
            _ = tokio::time::sleep(std::time::Duration::from_millis(s.config.poll_ms.min(500))) => {}
        }
    }
}

/// On-chain request status codes (`InferenceMarket.Status`).
const OPEN: u8 = 1;
const FULFILLED: u8 = 2;

async fn process(s: &Shared, job: &Job) -> Result<()> {
    let id = U256::from_str_radix(&job.request_id, 10).map_err(|e| MarketError::Format(format!("bad request id: {e}")))?;
    let model = s.models.get(&job.model_id).ok_or_else(|| MarketError::Format(format!("model {} is not served here", job.model_id)))?.clone();
    if !still_open(s, job, id).await? {
        return Ok(());
    }
    // A request whose deadline the last proof's duration would already miss is reported, not
    // attempted (the client reclaims it with the bond share).
    let last = s.metrics.prove_millis.load(Ordering::Relaxed) / s.metrics.proofs.load(Ordering::Relaxed).max(1);
    if now() + (last as i64 * 3 / 2) / 1000 + 1 > job.deadline {
        s.metrics.deadline_missed.fetch_add(1, Ordering::Relaxed);
        s.store.set_state(&job.request_id, "expired", None, Some("the deadline cannot be met")).await?;
        return Ok(());
    }
    let inputs: Vec<String> = serde_json::from_str(&job.inputs).map_err(|e| MarketError::Format(format!("stored inputs: {e}")))?;
    let onchain = inputs.iter().map(|v| U256::from_str_radix(v, 10)).collect::<std::result::Result<Vec<U256>, _>>().map_err(|e| MarketError::Format(format!("stored inputs: {e}")))?;
    let private = match &job.private_input {
        Some(j) => Some(serde_json::from_str::<zkinfer_onnx::data::InputData>(j).map_err(|e| MarketError::Format(format!("stored private input: {e}")))?),
        None => None,
    };
    // A proof made by an earlier attempt (whose send failed) is sent again, not re-made.
    let proof = match &job.proof {
        Some(p) => serde_json::from_str::<zkinfer_prover::ProofArtifact>(p).map_err(|e| MarketError::Format(format!("stored proof: {e}")))?,
        None => {
            let binding = s.conn.binding(&s.deployment, id, s.conn.address).await?;
            let binding = crate::layout::field(&binding)?;
            let started = std::time::Instant::now();
            let m = model.clone();
            let proof = tokio::task::spawn_blocking(move || -> Result<zkinfer_prover::ProofArtifact> {
                let w = crate::operator::witness_for_request(&m.compiled, &onchain, private.as_ref())?;
                zkinfer_prover::prove(&m.compiled, &w, &m.pk, &m.srs, binding).map_err(|e| MarketError::Format(e.to_string()))
            })
            .await
            .map_err(|e| MarketError::Format(format!("prover thread: {e}")))??;
            s.metrics.prove_millis.fetch_add(started.elapsed().as_millis() as u64, Ordering::Relaxed);
            s.metrics.proofs.fetch_add(1, Ordering::Relaxed);
            // Recorded before acting: a crash from here on is resolved by the on-chain check.
            s.store.set_sending(&job.request_id, &serde_json::to_string(&proof).expect("serializable")).await?;
            proof
        }
    };
    let values = proof.instances().map_err(|e| MarketError::Format(e.to_string()))?;
    let (ins, outs) = crate::split_public_values(&model.pk.header.statement, &values)?;
    let bytes = proof.proof_bytes().map_err(|e| MarketError::Format(e.to_string()))?;
    if !still_open(s, job, id).await? {
        return Ok(());
    }
    match s.conn.fulfil(&s.deployment, id, ins, outs, bytes).await {
        Ok(tx) => {
            tracing::info!("fulfilled request {id}: {} gas, tx {}", tx.gas_used, tx.hash);
            s.store.set_state(&job.request_id, "fulfilled", Some(&tx.hash), None).await
        }
        Err(MarketError::Reverted { .. }) if !still_open(s, job, id).await? => Ok(()),
        Err(e) => Err(e),
    }
}

/// Whether request `id` is still open on-chain; if not, records how it ended.
async fn still_open(s: &Shared, job: &Job, id: U256) -> Result<bool> {
    let r = s.conn.request_state(&s.deployment, id).await?;
    match r.status {
        OPEN => Ok(true),
        // Only the model's operator can fulfil: this key, from this or another machine sharing
        // the store (or a run that crashed after sending).
        FULFILLED => {
            s.store.set_state(&job.request_id, "fulfilled", None, None).await?;
            Ok(false)
        }
        _ => {
            s.store.set_state(&job.request_id, "closed", None, Some("reclaimed by the client after the deadline")).await?;
            Ok(false)
        }
    }
}
