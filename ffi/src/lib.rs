//! C ABI over promlite.
