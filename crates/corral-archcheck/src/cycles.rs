//! The dependency graph among siblings, at every level of the module tree,
//! and its cycles.
//!
//! A reference from module `F` to an item of module `T` is an edge between
//! the two children of their deepest common ancestor `P` that hold them. When
//! `F` or `T` is `P` itself, that end is `P`'s own body: a child naming an
//! item defined in its parent's file, while the parent uses the child, is a
//! cycle too. Naming a module (not an item in it) that encloses the naming
//! one is no edge: it is how children reach their siblings.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::tree::CrateTree;

/// One strongly connected set of siblings under a common parent.
#[derive(Debug)]
pub struct Cycle {
    /// The parent module, as `crate::a::b`.
    pub parent: String,
    /// The siblings in the cycle (`(self)` is the parent's own body).
    pub members: Vec<String>,
    /// Each reference that makes an edge inside the cycle: the sibling it
    /// goes from and to, the file, and the path as written.
    pub edges: Vec<Edge>,
}

/// One reference between two siblings.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Edge {
    /// The sibling holding the reference.
    pub from: String,
    /// The sibling holding what it names.
    pub to: String,
    /// The file of the reference.
    pub file: String,
    /// The path as written, `::`-joined.
    pub path: String,
}

/// The parent's own body among its children.
const SELF: &str = "(self)";

/// Every cycle in `tree`, parents in order.
pub fn find_cycles(tree: &CrateTree) -> Vec<Cycle> {
    let mut levels: BTreeMap<usize, BTreeSet<Edge>> = BTreeMap::new();
    for (from, module) in tree.modules.iter().enumerate() {
        for reference in &module.refs {
            let path = &reference.path;
            let Some(target) = tree.resolve(from, path) else {
                continue;
            };
            let to = &tree.modules[target.module];
            let common = module
                .path
                .iter()
                .zip(&to.path)
                .take_while(|(a, b)| a == b)
                .count();
            if target.is_module && common == to.path.len() {
                continue;
            }
            let side = |path: &[String]| path.get(common).cloned().unwrap_or_else(|| SELF.into());
            let (from_side, to_side) = (side(&module.path), side(&to.path));
            if from_side == to_side || (reference.reexport && from_side == SELF) {
                continue;
            }
            let parent = ancestor_at(tree, from, common);
            levels.entry(parent).or_default().insert(Edge {
                from: from_side,
                to: to_side,
                file: module.file.display().to_string(),
                path: path.join("::"),
            });
        }
    }
    let mut cycles = Vec::new();
    for (parent, edges) in levels {
        for members in strongly_connected(&edges) {
            let inside = edges
                .iter()
                .filter(|edge| members.contains(&edge.from) && members.contains(&edge.to))
                .cloned()
                .collect();
            cycles.push(Cycle {
                parent: tree.name(parent),
                members: members.into_iter().collect(),
                edges: inside,
            });
        }
    }
    cycles
}

fn ancestor_at(tree: &CrateTree, mut module: usize, depth: usize) -> usize {
    while tree.modules[module].path.len() > depth {
        match tree.modules[module].parent {
            Some(parent) => module = parent,
            None => break,
        }
    }
    module
}

/// The sets of two or more nodes that reach one another (Tarjan's algorithm
/// is overkill for graphs of a few dozen nodes: reachability is computed
/// directly).
fn strongly_connected(edges: &BTreeSet<Edge>) -> Vec<BTreeSet<String>> {
    let mut next: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for edge in edges {
        next.entry(&edge.from).or_default().insert(&edge.to);
    }
    let reach = |start: &str| {
        let mut seen = BTreeSet::new();
        let mut pending = vec![start];
        while let Some(node) = pending.pop() {
            for &to in next.get(node).into_iter().flatten() {
                if seen.insert(to) {
                    pending.push(to);
                }
            }
        }
        seen
    };
    let reaches: BTreeMap<&str, BTreeSet<&str>> =
        next.keys().map(|&node| (node, reach(node))).collect();
    let mut placed = BTreeSet::new();
    let mut sets = Vec::new();
    for (&node, reached) in &reaches {
        if placed.contains(node) || !reached.contains(node) {
            continue;
        }
        let set: BTreeSet<String> = reached
            .iter()
            .filter(|other| reaches.get(**other).is_some_and(|back| back.contains(node)))
            .map(|other| (*other).to_string())
            .collect();
        placed.extend(set.iter().cloned());
        sets.push(set);
    }
    sets
}

impl fmt::Display for Cycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "cycle under {}: {}",
            self.parent,
            self.members.join(" ↔ ")
        )?;
        for edge in &self.edges {
            writeln!(
                f,
                "  {} → {}: {} ({})",
                edge.from, edge.to, edge.path, edge.file
            )?;
        }
        Ok(())
    }
}
