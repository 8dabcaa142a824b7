//! The checks every native verifier (from the verifying key or from the verifier artifact) runs
//! before the cryptography: the proof file's claims against the [`Statement`] the model
//! commitment binds. A proof is only as good as what it is read as, so a mismatch anywhere —
//! commitment, circuit size, params hash, binding, the readable `outputs` — is an invalid proof
//! with its reason, never a valid proof of something else.

use halo2_proofs::halo2curves::bn256::Fr;
use serde::Serialize;
use zkinfer_circuits::{PackError, Role};
use zkinfer_prover::artifacts::fr_to_hex;
use zkinfer_prover::{ProofArtifact, ProverError, Statement};

/// The outcome of a verification that could be carried out.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Verdict {
    pub valid: bool,
    /// Why the proof is invalid (absent when valid).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub model_commitment: String,
    pub num_instances: usize,
    /// What the valid proof shows (absent when invalid).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub claims: Option<Claims>,
    /// When the proof shows less than "this exact model" (private params).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// What a valid proof establishes, read from its public values through the statement.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Claims {
    /// Public outputs as proven integers, one list per output (absent unless outputs are public).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outputs: Option<Vec<Vec<i64>>>,
    /// The same divided by `2^scale`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rescaled_outputs: Option<Vec<Vec<f64>>>,
    /// Poseidon hashes of hashed inputs and outputs (0x-hex), in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub input_hashes: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub output_hashes: Vec<String>,
    /// The params hash the proof carries (hashed params; equal to the statement's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub params_hash: Option<String>,
    pub binding: String,
}

impl Verdict {
    pub fn invalid(reason: String, commitment: &str, num_instances: usize, st: &Statement) -> Verdict {
        Verdict { valid: false, reason: Some(reason), model_commitment: commitment.to_string(), num_instances, claims: None, warning: st.warning() }
    }
    pub fn valid(claims: Claims, commitment: &str, num_instances: usize, st: &Statement) -> Verdict {
        Verdict { valid: true, reason: None, model_commitment: commitment.to_string(), num_instances, claims: Some(claims), warning: st.warning() }
    }
    /// With an expected model commitment (the registered one, say): a valid proof for another
    /// model is invalid. The verifier's own commitment is what a verifying key or artifact from
    /// an untrusted source vouches for; this is how a caller pins it.
    pub fn expecting(self, expected: Option<&str>) -> Verdict {
        match expected {
            Some(e) if self.valid && !e.eq_ignore_ascii_case(&self.model_commitment) => {
                let reason = format!("the proof is for model commitment {}, not the expected {e}", self.model_commitment);
                Verdict { valid: false, reason: Some(reason), claims: None, ..self }
            }
            _ => self,
        }
    }
}

/// The public values of a proof file, checked to be as many as the statement has. `Err` (the
/// proof cannot be checked) for malformed values or a wrong count.
pub fn public_values(proof: &ProofArtifact, st: &Statement) -> Result<Vec<Fr>, ProverError> {
    let values = proof.instances()?;
    let n = st.packing.num_values();
    if values.len() != n {
        return Err(ProverError::Format(format!("the proof carries {} public values but the model has {n}", values.len())));
    }
    Ok(values)
}

/// Everything but the cryptography: the proof file claims `commitment` (the verifier's, which
/// binds `st`) at `logrows`; its public values pack under the statement; the params hash is the
/// statement's; and `binding`, `outputs`, `rescaled_outputs`, when present, say exactly what the
/// public values say. Returns the packed instances and the claims, or the reason to reject.
pub fn check_claims(proof: &ProofArtifact, values: &[Fr], st: &Statement, commitment: &str, logrows: u32) -> Result<(Vec<Fr>, Claims), String> {
    if !proof.model_commitment.eq_ignore_ascii_case(commitment) {
        return Err(format!("the proof claims model commitment {} but the verifier's is {commitment}", proof.model_commitment));
    }
    if proof.logrows != logrows {
        return Err(format!("the proof claims logrows {} but the verifier's circuit has {logrows}", proof.logrows));
    }
    let p = &st.packing;
    let instances = p.pack(values).map_err(|e| match e {
        PackError::OutOfRange { .. } => format!("{e}: no proof of this model can carry it"),
        e => e.to_string(),
    })?;
    let params_hash = match (p.params_hash_value(), st.params_hash_fr()) {
        (Some(i), Some(h)) if values[i] == h => Some(fr_to_hex(&h)),
        (Some(i), Some(h)) => return Err(format!("the proof carries params hash {} but the model's is {}: it was made with other params", fr_to_hex(&values[i]), fr_to_hex(&h))),
        (None, None) => None,
        _ => return Err("the statement's params hash and its public values disagree".into()),
    };
    let binding = values[p.binding_value()];
    if !proof.binding.is_empty() {
        let claimed = zkinfer_prover::artifacts::fr_from_hex(&proof.binding).map_err(|e| format!("binding: {e}"))?;
        if claimed != binding {
            return Err(format!("the proof file's binding {} is not the proven binding {}", proof.binding, fr_to_hex(&binding)));
        }
    }
    let mut outputs = vec![];
    let (mut input_hashes, mut output_hashes) = (vec![], vec![]);
    for s in &p.segments {
        let r = p.values_of(s.role).expect("segment of the packing");
        match s.role {
            Role::Output(_) => outputs.push(values[r].iter().map(|v| p.unpack_value(v).expect("packing checked the range")).collect::<Vec<i64>>()),
            Role::InputHash(_) => input_hashes.push(fr_to_hex(&values[r.start])),
            Role::OutputHash(_) => output_hashes.push(fr_to_hex(&values[r.start])),
            _ => {}
        }
    }
    let public_out = st.visibility.output == zkinfer_onnx::settings::Visibility::Public;
    let rescaled: Vec<Vec<f64>> = outputs.iter().zip(&st.output_scales).map(|(o, &s)| o.iter().map(|&v| zkinfer_onnx::quant::rules::dequantize(v, s)).collect()).collect();
    if !proof.outputs.is_empty() && (!public_out || proof.outputs != outputs) {
        return Err("the proof file's `outputs` are not the proven outputs".into());
    }
    if !proof.rescaled_outputs.is_empty() && (!public_out || !same_floats(&proof.rescaled_outputs, &rescaled)) {
        return Err("the proof file's `rescaled_outputs` are not the proven outputs divided by 2^scale".into());
    }
    let claims = Claims {
        outputs: public_out.then(|| outputs.clone()),
        rescaled_outputs: public_out.then_some(rescaled),
        input_hashes,
        output_hashes,
        params_hash,
        binding: fr_to_hex(&binding),
    };
    Ok((instances, claims))
}

/// Equal up to the last bit a decimal round trip may lose (`x / 2^s` is exact in binary).
fn same_floats(a: &[Vec<f64>], b: &[Vec<f64>]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.len() == y.len() && x.iter().zip(y).all(|(p, q)| (p - q).abs() <= 1e-12 * q.abs().max(1.0)))
}
