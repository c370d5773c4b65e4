//! A map keyed by series id, stored densely. Series ids are small, increasing
//! integers, and commits touch series roughly in id order, so a vector beats a
//! hash map here: no hashing, and neighbouring series are neighbours in memory.

/// Values by series id (ids must be non-negative).
#[derive(Debug)]
pub(crate) struct IdMap<T> {
    slots: Vec<Option<T>>,
}

impl<T> Default for IdMap<T> {
    fn default() -> Self {
        IdMap { slots: Vec::new() }
    }
}

impl<T> IdMap<T> {
    fn slot(id: i64) -> usize {
        usize::try_from(id).expect("series ids are non-negative")
    }

    pub(crate) fn get(&self, id: &i64) -> Option<&T> {
        self.slots.get(Self::slot(*id)).and_then(Option::as_ref)
    }

    pub(crate) fn get_mut(&mut self, id: &i64) -> Option<&mut T> {
        self.slots.get_mut(Self::slot(*id)).and_then(Option::as_mut)
    }

    pub(crate) fn contains_key(&self, id: &i64) -> bool {
        self.get(id).is_some()
    }

    pub(crate) fn insert(&mut self, id: i64, value: T) -> Option<T> {
        let i = Self::slot(id);
        if i >= self.slots.len() {
            self.slots.resize_with(i + 1, || None);
        }
        self.slots[i].replace(value)
    }

    pub(crate) fn remove(&mut self, id: &i64) -> Option<T> {
        self.slots.get_mut(Self::slot(*id)).and_then(Option::take)
    }

    pub(crate) fn clear(&mut self) {
        self.slots.clear();
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (i64, &T)> {
        self.slots.iter().enumerate().filter_map(|(i, v)| v.as_ref().map(|v| (i as i64, v)))
    }

    pub(crate) fn keys(&self) -> impl Iterator<Item = i64> + '_ {
        self.iter().map(|(id, _)| id)
    }
}

impl<T: Default> IdMap<T> {
    /// The value for `id`, inserting a default one if absent.
    pub(crate) fn get_or_default(&mut self, id: i64) -> &mut T {
        if !self.contains_key(&id) {
            self.insert(id, T::default());
        }
        self.get_mut(&id).expect("just inserted")
    }
}

impl<T> std::ops::Index<&i64> for IdMap<T> {
    type Output = T;

    fn index(&self, id: &i64) -> &T {
        self.get(id).expect("no entry for this series id")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_like_a_map() {
        let mut m: IdMap<&str> = IdMap::default();
        assert_eq!(m.insert(5, "five"), None);
        assert_eq!(m.insert(2, "two"), None);
        assert_eq!(m.insert(5, "FIVE"), Some("five"));
        assert_eq!((m.keys().count(), m[&5], m.get(&3)), (2, "FIVE", None));
        assert_eq!(m.keys().collect::<Vec<_>>(), vec![2, 5]);
        assert_eq!(m.remove(&2), Some("two"));
        assert_eq!(m.remove(&2), None);
        assert_eq!(m.keys().count(), 1);
        let mut d: IdMap<Vec<u8>> = IdMap::default();
        d.get_or_default(3).push(1);
        d.get_or_default(3).push(2);
        assert_eq!(d[&3], vec![1, 2]);
    }
}
