//! Per-request state that features own: each keeps its values under a type of its own
//! (DI its cache and cleanups, background tasks their queue, forms their fields), made
//! on first use. A request that uses no such feature allocates nothing here.

use std::any::{Any, TypeId};

type Entry = (TypeId, Box<dyn Any + Send>);

/// Values by type, one per type. A request holds a few at most, so a list beats a map;
/// the first is kept inline, so a request using one feature allocates only its value.
#[derive(Default)]
pub(crate) struct Locals {
    first: Option<Entry>,
    rest: Vec<Entry>,
}

impl Locals {
    fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.first.iter().chain(self.rest.iter())
    }

    fn entries_mut(&mut self) -> impl Iterator<Item = &mut Entry> {
        self.first.iter_mut().chain(self.rest.iter_mut())
    }

    /// Whether no feature keeps anything for this request (most requests).
    pub(crate) fn is_empty(&self) -> bool {
        self.first.is_none()
    }

    /// The value of type `T` when it is the only one kept.
    pub(crate) fn sole<T: Any + Send>(&self) -> Option<&T> {
        match (&self.first, self.rest.is_empty()) {
            (Some((_, value)), true) => value.downcast_ref::<T>(),
            _ => None,
        }
    }

    /// The value of type `T`, if there is one.
    pub(crate) fn get<T: Any + Send>(&self) -> Option<&T> {
        let ty = TypeId::of::<T>();
        let (_, value) = self.entries().find(|(t, _)| *t == ty)?;
        value.downcast_ref::<T>()
    }

    /// The value of type `T`, if there is one, to change.
    pub(crate) fn get_mut<T: Any + Send>(&mut self) -> Option<&mut T> {
        let ty = TypeId::of::<T>();
        let (_, value) = self.entries_mut().find(|(t, _)| *t == ty)?;
        value.downcast_mut::<T>()
    }

    /// The value of type `T`, made with `make` if there is none yet.
    pub(crate) fn get_or_insert_with<T: Any + Send>(&mut self, make: impl FnOnce() -> T) -> &mut T {
        if self.get::<T>().is_none() {
            let entry: Entry = (TypeId::of::<T>(), Box::new(make()));
            match self.first {
                None => self.first = Some(entry),
                Some(_) => self.rest.push(entry),
            }
        }
        self.get_mut::<T>()
            .expect("a local is kept under its own type")
    }

    /// The value of type `T`, made by `Default` if there is none yet.
    pub(crate) fn get_or_default<T: Any + Send + Default>(&mut self) -> &mut T {
        self.get_or_insert_with(T::default)
    }

    /// Take the value of type `T` out, if there is one.
    pub(crate) fn take<T: Any + Send>(&mut self) -> Option<T> {
        let ty = TypeId::of::<T>();
        let entry = if self.first.as_ref().is_some_and(|(t, _)| *t == ty) {
            let taken = self.first.take();
            if !self.rest.is_empty() {
                self.first = Some(self.rest.swap_remove(0));
            }
            taken?
        } else {
            let i = self.rest.iter().position(|(t, _)| *t == ty)?;
            self.rest.swap_remove(i)
        };
        entry.1.downcast::<T>().ok().map(|b| *b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_type_has_one_value() {
        let mut l = Locals::default();
        assert!(l.get::<u32>().is_none());
        *l.get_or_default::<u32>() += 2;
        *l.get_or_default::<u32>() += 3;
        l.get_or_insert_with(|| String::from("a")).push('b');
        assert_eq!(l.get::<u32>(), Some(&5));
        assert_eq!(l.get::<String>().map(String::as_str), Some("ab"));
        assert_eq!(l.take::<u32>(), Some(5));
        assert!(l.get_mut::<u32>().is_none());
        assert_eq!(l.take::<String>().as_deref(), Some("ab"));
    }
}
