//! Einsum with one or two operands and explicit or implicit output, lowered at import to
//! `ReduceSum`, `Transpose`, `Reshape` and one batched `MatMul`:
//!
//! * indices of one operand that appear nowhere else are summed out first (`ReduceSum`);
//! * for two operands the remaining indices are *batch* (in both and the output), *contracted*
//!   (in both, not the output), or *free* (in one operand and the output); `A` is laid out as
//!   `[batch, free_A, contracted]` → `[B, M, K]`, `B` as `[batch, contracted, free_B]` →
//!   `[B, K, N]`, multiplied (an activation × activation product when both are runtime values,
//!   e.g. attention scores `bhid,bhjd->bhij`), reshaped and transposed to the output order.
//!
//! Refused by name: three or more operands, ellipsis (`...`), an index repeated within one
//! operand (diagonals, traces).

use crate::error::Result;
use crate::import::lower::{Ctx, Lowered, Nodes, Src};
use crate::ir::Op;

/// An operand: its source, index letters and dims.
struct Term {
    src: Src,
    idx: Vec<char>,
    dims: Vec<usize>,
}

impl Term {
    fn dim(&self, c: char) -> usize {
        self.dims[self.idx.iter().position(|&x| x == c).expect("index of this term")]
    }
    /// Sum out the indices not in `keep`.
    fn sum_out(self, n: &mut Nodes, keep: &dyn Fn(char) -> bool) -> Term {
        let axes: Vec<usize> = self.idx.iter().enumerate().filter(|(_, &c)| !keep(c)).map(|(i, _)| i).collect();
        if axes.is_empty() {
            return self;
        }
        let src = n.push(Op::ReduceSum { axes: axes.clone(), keepdims: false }, vec![self.src]);
        let (idx, dims) = self.idx.iter().zip(&self.dims).enumerate().filter(|(i, _)| !axes.contains(i)).map(|(_, (&c, &d))| (c, d)).unzip();
        Term { src, idx, dims }
    }
    /// Transpose to the order `order` (a permutation of `idx`).
    fn arrange(self, n: &mut Nodes, order: &[char]) -> Term {
        let perm: Vec<usize> = order.iter().map(|c| self.idx.iter().position(|x| x == c).expect("same indices")).collect();
        let dims = perm.iter().map(|&p| self.dims[p]).collect();
        Term { src: n.transpose(self.src, perm), idx: order.to_vec(), dims }
    }
}

pub(crate) fn lower(ctx: &Ctx) -> Result<Option<Lowered>> {
    if ctx.op != "Einsum" {
        return Ok(None);
    }
    let eq: String = ctx.attrs.string("equation")?.ok_or_else(|| ctx.err("missing `equation`"))?.chars().filter(|c| !c.is_whitespace()).collect();
    if eq.contains("...") {
        return Err(ctx.unsupported("ellipsis (`...`) in the equation"));
    }
    let (lhs, rhs) = match eq.split_once("->") {
        Some((l, r)) => (l.to_string(), Some(r.to_string())),
        None => (eq.clone(), None),
    };
    let specs: Vec<Vec<char>> = lhs.split(',').map(|s| s.chars().collect()).collect();
    if specs.len() != ctx.ins.len() || specs.is_empty() {
        return Err(ctx.err(format!("the equation names {} operands, the node has {}", specs.len(), ctx.ins.len())));
    }
    if specs.len() > 2 {
        return Err(ctx.unsupported(format!("{} operands (one or two are supported)", specs.len())));
    }
    let mut terms = Vec::with_capacity(specs.len());
    for (i, s) in specs.into_iter().enumerate() {
        if s.iter().any(|c| !c.is_ascii_alphabetic()) {
            return Err(ctx.err(format!("operand {i} has a non-letter index in `{eq}`")));
        }
        let mut seen = s.clone();
        seen.sort_unstable();
        seen.dedup();
        if seen.len() != s.len() {
            return Err(ctx.unsupported(format!("an index repeated within operand {i} (diagonal or trace) in `{eq}`")));
        }
        let dims = ctx.shape(i)?;
        if dims.len() != s.len() {
            return Err(ctx.err(format!("operand {i} has rank {} but `{eq}` gives it {} indices", dims.len(), s.len())));
        }
        terms.push(Term { src: Src::In(i), idx: s, dims });
    }
    // Implicit output: the indices that appear once, in alphabetical order.
    let out: Vec<char> = match rhs {
        Some(r) => r.chars().collect(),
        None => {
            let mut all: Vec<char> = terms.iter().flat_map(|t| t.idx.clone()).collect();
            all.sort_unstable();
            let mut once: Vec<char> = all.iter().copied().filter(|c| all.iter().filter(|x| *x == c).count() == 1).collect();
            once.dedup();
            once
        }
    };
    for &c in &out {
        if !terms.iter().any(|t| t.idx.contains(&c)) {
            return Err(ctx.err(format!("output index `{c}` is in no operand of `{eq}`")));
        }
    }
    for t in &terms[1..] {
        for (k, &c) in t.idx.iter().enumerate() {
            if terms[0].idx.contains(&c) && terms[0].dim(c) != t.dims[k] {
                return Err(ctx.err(format!("index `{c}` has lengths {} and {}", terms[0].dim(c), t.dims[k])));
            }
        }
    }
    let mut n = Nodes::default();
    let y = if terms.len() == 1 {
        let t = terms.pop().expect("one term");
        let t = t.sum_out(&mut n, &|c| out.contains(&c));
        t.arrange(&mut n, &out).src
    } else {
        let b = terms.pop().expect("two terms");
        let a = terms.pop().expect("two terms");
        let (ai, bi) = (a.idx.clone(), b.idx.clone());
        let a = a.sum_out(&mut n, &|c| out.contains(&c) || bi.contains(&c));
        let b = b.sum_out(&mut n, &|c| out.contains(&c) || ai.contains(&c));
        let batch: Vec<char> = out.iter().copied().filter(|c| a.idx.contains(c) && b.idx.contains(c)).collect();
        let contracted: Vec<char> = a.idx.iter().copied().filter(|c| b.idx.contains(c) && !out.contains(c)).collect();
        let free_a: Vec<char> = out.iter().copied().filter(|c| a.idx.contains(c) && !b.idx.contains(c)).collect();
        let free_b: Vec<char> = out.iter().copied().filter(|c| b.idx.contains(c) && !a.idx.contains(c)).collect();
        let size = |t: &Term, cs: &[char]| cs.iter().map(|&c| t.dim(c)).product::<usize>();
        let (bs, m, k, nn) = (size(&a, &batch), size(&a, &free_a), size(&a, &contracted), size(&b, &free_b));
        let a_order: Vec<char> = [batch.clone(), free_a.clone(), contracted.clone()].concat();
        let b_order: Vec<char> = [batch.clone(), contracted.clone(), free_b.clone()].concat();
        let mut dims: Vec<usize> = batch.iter().chain(&free_a).map(|&c| a.dim(c)).collect();
        dims.extend(free_b.iter().map(|&c| b.dim(c)));
        let a = a.arrange(&mut n, &a_order);
        let b = b.arrange(&mut n, &b_order);
        let am = n.reshape(a.src, vec![bs, m, k]);
        let bm = n.reshape(b.src, vec![bs, k, nn]);
        let p = n.push(Op::MatMul, vec![am, bm]);
        let p = n.reshape(p, dims.clone());
        let t = Term { src: p, idx: [batch, free_a, free_b].concat(), dims };
        t.arrange(&mut n, &out).src
    };
    Ok(Some(n.done(vec![y])))
}

#[cfg(test)]
mod tests {
    use crate::import::proto::onnx::{attribute_proto::AttributeType, AttributeProto, ModelProto};
    use crate::import::{import_bytes, ImportOptions};
    use prost::Message;

    /// The committed attention model with `einsum_scores`' equation replaced; the import error.
    fn with_equation(eq: &str) -> String {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../models/breadth/ops_attention/model.onnx");
        let mut m = ModelProto::decode(std::fs::read(path).unwrap().as_slice()).unwrap();
        let node = m.graph.as_mut().unwrap().node.iter_mut().find(|n| n.name.as_deref() == Some("einsum_scores")).unwrap();
        node.attribute = vec![AttributeProto { name: Some("equation".into()), r#type: Some(AttributeType::String as i32), s: Some(eq.as_bytes().to_vec()), ..Default::default() }];
        import_bytes(&m.encode_to_vec(), &ImportOptions::default()).unwrap_err().to_string()
    }

    #[test]
    fn unsupported_equations_are_named() {
        let e = with_equation("...d,...d->...");
        assert!(e.contains("einsum_scores") && e.contains("ellipsis"), "{e}");
        let e = with_equation("bii,bjd->bij");
        assert!(e.contains("einsum_scores") && e.contains("repeated within operand 0"), "{e}");
        let e = with_equation("bid,bjd,bkd->bij");
        assert!(e.contains("names 3 operands"), "{e}");
        let e = with_equation("bi,bjd->bij");
        assert!(e.contains("rank 3") && e.contains("2 indices"), "{e}");
        let e = with_equation("bid,bjd->bix");
        assert!(e.contains("output index `x`"), "{e}");
    }
}
