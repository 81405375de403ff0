//! Resolves a path a module mentions to the module of its crate that
//! defines what it names, following imports and re-exports (`pub use`,
//! globs) the way the compiler does for the type namespace, closely enough
//! for layering: a path into another crate resolves to nothing.

use crate::tree::CrateTree;

/// Where a path leads inside the crate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    /// The module that defines the item, or the module named.
    pub module: usize,
    /// The path names a module itself rather than an item in it.
    pub is_module: bool,
}

/// Bounds the re-export chains followed (a chain longer than this is a loop).
const MAX_DEPTH: u8 = 24;

impl CrateTree {
    /// Resolves `path`, as written in module `from`.
    pub fn resolve(&self, from: usize, path: &[String]) -> Option<Target> {
        self.resolve_at(from, path, 0)
    }

    fn resolve_at(&self, from: usize, path: &[String], depth: u8) -> Option<Target> {
        let first = path.first()?;
        if depth > MAX_DEPTH {
            return None;
        }
        match first.as_str() {
            "crate" => self.walk(0, &path[1..], depth, false),
            "self" => self.walk(from, &path[1..], depth, false),
            "super" => self.walk(from, path, depth, false),
            _ if self.knows(from, first) => self.walk(from, path, depth, false),
            _ => self.through_globs(from, path, depth),
        }
    }

    fn knows(&self, module: usize, name: &str) -> bool {
        let module = &self.modules[module];
        module.children.contains_key(name)
            || module.items.contains(name)
            || module.imports.contains_key(name)
    }

    /// Follows `path` down from module `start`. `strict` refuses a name the
    /// module does not know (a glob tried in passing); otherwise an unknown
    /// name (an enum variant, an associated item) is taken as the module's.
    fn walk(&self, start: usize, path: &[String], depth: u8, strict: bool) -> Option<Target> {
        let mut current = start;
        for (index, segment) in path.iter().enumerate() {
            let module = &self.modules[current];
            if segment == "super" {
                current = module.parent?;
                continue;
            }
            if segment == "self" {
                continue;
            }
            if let Some(&child) = module.children.get(segment) {
                current = child;
                continue;
            }
            if module.items.contains(segment) {
                return Some(Target {
                    module: current,
                    is_module: false,
                });
            }
            if let Some(imported) = module.imports.get(segment) {
                let target = self.resolve_at(current, imported, depth + 1)?;
                if !target.is_module {
                    return Some(target);
                }
                current = target.module;
                continue;
            }
            if let Some(target) = self.through_globs(current, &path[index..], depth) {
                return Some(target);
            }
            return (!strict).then_some(Target {
                module: current,
                is_module: false,
            });
        }
        Some(Target {
            module: current,
            is_module: true,
        })
    }

    fn through_globs(&self, module: usize, path: &[String], depth: u8) -> Option<Target> {
        self.modules[module].globs.iter().find_map(|base| {
            let base = self.resolve_at(module, base, depth + 1)?;
            if !base.is_module || base.module == module {
                return None;
            }
            self.walk(base.module, path, depth + 1, true)
        })
    }
}
