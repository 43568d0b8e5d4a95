//! Cross-traffic flows on the timeline: every mistake of a flow reported at its own field
//! (its form first, then the emulator's checks, placed at the field each names), and its
//! packet rate held to [`super::limits::MAX_FLOW_PACKET_RATE`].

use super::de::{deserialize_all, key_path};
use super::error::{ErrorKind, ScenarioError};
use super::load::{Context, MAX_ERRORS};
use super::model::CrossTrafficFlow;
use super::profile_shape::FlowShape;
use super::yaml::Node;
use crate::net::NetError;

impl Context {
    /// Reads the cross-traffic flow written at `node` (field path `path`), or reports every
    /// mistake in it.
    pub(super) fn cross_flow(&mut self, node: &Node, path: &str) -> Option<CrossTrafficFlow> {
        let (shape, errs) = deserialize_all::<FlowShape>(node, path, MAX_ERRORS);
        let mut ok = errs.is_empty();
        for e in errs {
            if let Some(l) = &e.located {
                self.removed.push(l.path.clone());
            }
            self.push(ScenarioError::from_de(e, &node.mark));
        }
        let flow = shape?.0;
        // The field a check names, where it was written (the flow itself when not written).
        let at = |field: &str| match node.get(field) {
            Some(n) => (n.mark.clone(), key_path(path, field)),
            None => (node.mark.clone(), path.to_string()),
        };
        let (name_mark, name_path) = at("name");
        ok &= self.name_ok("cross-traffic flow", &flow.name, &name_mark, &name_path);
        let (rate_mark, rate_path) = at("rate");
        ok &= self.flow_rate_ok(&flow, &rate_mark, &rate_path);
        if let Err(e) = flow.validate() {
            let (field, message) = match e {
                NetError::InvalidFlow { field, message, .. } => (field, message),
                other => (String::new(), other.to_string()),
            };
            let (mark, fpath) = at(&field);
            // A field already refused (and left out) is not missing.
            if self.removed.contains(&fpath) {
                return None;
            }
            self.push(ScenarioError::at(
                ErrorKind::BadValue,
                &mark,
                &fpath,
                format!("cross-traffic flow `{}`: {message}", flow.name),
            ));
            ok = false;
        }
        if ok && flow.transport == crate::net::cross::FlowTransport::Tcp {
            // Written at their defaults these pass `validate`, but still mean nothing here.
            for field in ["arrivals", "pattern"] {
                if let Some(n) = node.get(field) {
                    self.push(ScenarioError::at(
                        ErrorKind::BadValue,
                        &n.mark,
                        &key_path(path, field),
                        format!(
                            "cross-traffic flow `{}`: `{field}` means nothing with `transport: \
                             tcp` (the stack times its own segments): leave it out",
                            flow.name
                        ),
                    ));
                    ok = false;
                }
            }
        }
        ok.then_some(flow)
    }
}
