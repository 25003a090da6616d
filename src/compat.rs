// SPDX-License-Identifier: GPL-2.0

//! The differences of the kernel crate between the kernels that the module builds against.
//!
//! `src/Kbuild` passes `--cfg rsnd_kernel_7_3` when KDIR is Linux 7.3 or later; this module
//! is the only user of that cfg. Each item has one definition per kernel line, with the
//! same interface.

use kernel::{
    module_param::ModuleParamAccess,
    ThisModule, //
};

/// Returns the value of a module parameter (given at load time, or its default).
#[cfg(not(rsnd_kernel_7_3))]
pub(crate) fn param<T: Copy>(p: &ModuleParamAccess<T>) -> T {
    // 7.2: `value()` borrows the value.
    *p.value()
}

/// Returns the value of a module parameter (given at load time, or its default).
#[cfg(rsnd_kernel_7_3)]
pub(crate) fn param<T: Copy>(p: &ModuleParamAccess<T>) -> T {
    // 7.3: `value()` copies the value (`value_ref()` borrows it).
    p.value()
}

/// Returns the module's `THIS_MODULE`.
#[cfg(not(rsnd_kernel_7_3))]
pub(crate) fn this_module() -> &'static ThisModule {
    // 7.2: `module!` defines a `static THIS_MODULE` in the crate root.
    &crate::THIS_MODULE
}

/// Returns the module's `THIS_MODULE`.
#[cfg(rsnd_kernel_7_3)]
pub(crate) fn this_module() -> &'static ThisModule {
    // 7.3: `module!` implements `ModuleMetadata::THIS_MODULE` for the module type,
    // `LocalModule` in the crate root.
    kernel::module::this_module::<crate::LocalModule>()
}

/// Defines the `static` device ID table `$table_name` of bus `$bus` and its alias for
/// modpost (`__mod_device_table__...`).
///
/// 7.2: the table is a `const` built here, and `module_device_table!` exports a byte copy of
/// it as `$module_table_name`.
#[cfg(not(rsnd_kernel_7_3))]
macro_rules! device_table {
    ($bus:literal, $id_type:ty, $table_name:ident, $module_table_name:ident, $id_info_type:ty,
     [$(($id:expr, $info:expr)),* $(,)?]) => {
        const $table_name: ::kernel::device_id::IdArray<
            $id_type,
            $id_info_type,
            { [$($id),*].len() },
        > = ::kernel::device_id::IdArray::new_without_index([$(($id, $info)),*]);

        ::kernel::module_device_table!($bus, $module_table_name, $table_name);
    };
}

/// Defines the `static` device ID table `$table_name` of bus `$bus` and its alias for
/// modpost (`__mod_device_table__...`).
///
/// 7.3: `module_device_table!` defines the exported table itself. Its table with ID infos
/// needs a `driver_data` field, which `struct virtio_device_id` lacks, so the table has none
/// (`@none`, an `IdArray<_, (), N>`: a driver's `ID_TABLE` of another info type does not
/// compile); `$module_table_name`, `$id_info_type` and the infos are unused.
#[cfg(rsnd_kernel_7_3)]
macro_rules! device_table {
    ($bus:literal, $id_type:ty, $table_name:ident, $module_table_name:ident, $id_info_type:ty,
     [$(($id:expr, $info:expr)),* $(,)?]) => {
        ::kernel::module_device_table!($bus, $id_type, $table_name, @none, [$($id),*]);
    };
}
pub(crate) use device_table;
