//! Per-request state that features own: each keeps its values under a type of its own
//! (DI its cache and cleanups, background tasks their queue, forms their fields), made
//! on first use. A request that uses no such feature allocates nothing here.

use std::any::{Any, TypeId};

/// Values by type, one per type. A request holds a few at most, so a list beats a map.
#[derive(Default)]
pub(crate) struct Locals(Vec<(TypeId, Box<dyn Any + Send>)>);

impl Locals {
    /// The value of type `T`, if there is one.
    pub(crate) fn get<T: Any + Send>(&self) -> Option<&T> {
        let ty = TypeId::of::<T>();
        let (_, value) = self.0.iter().find(|(t, _)| *t == ty)?;
        value.downcast_ref::<T>()
    }

    /// The value of type `T`, if there is one, to change.
    pub(crate) fn get_mut<T: Any + Send>(&mut self) -> Option<&mut T> {
        let ty = TypeId::of::<T>();
        let (_, value) = self.0.iter_mut().find(|(t, _)| *t == ty)?;
        value.downcast_mut::<T>()
    }

    /// The value of type `T`, made with `make` if there is none yet.
    pub(crate) fn get_or_insert_with<T: Any + Send>(&mut self, make: impl FnOnce() -> T) -> &mut T {
        let ty = TypeId::of::<T>();
        let i = match self.0.iter().position(|(t, _)| *t == ty) {
            Some(i) => i,
            None => {
                self.0.push((ty, Box::new(make())));
                self.0.len() - 1
            }
        };
        self.0[i]
            .1
            .downcast_mut::<T>()
            .expect("a local is kept under its own type")
    }

    /// The value of type `T`, made by `Default` if there is none yet.
    pub(crate) fn get_or_default<T: Any + Send + Default>(&mut self) -> &mut T {
        self.get_or_insert_with(T::default)
    }

    /// Take the value of type `T` out, if there is one.
    pub(crate) fn take<T: Any + Send>(&mut self) -> Option<T> {
        let ty = TypeId::of::<T>();
        let i = self.0.iter().position(|(t, _)| *t == ty)?;
        let (_, value) = self.0.swap_remove(i);
        value.downcast::<T>().ok().map(|b| *b)
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
