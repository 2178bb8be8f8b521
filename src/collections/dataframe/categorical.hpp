#pragma once

// Internal: the category dtype's kernels (categorical.cpp): building categories from strings,
// decoding back, the union of two columns' categories, the codes, and fillna.

#include <tessera/collections/dataframe/table.hpp>

#include <memory>
#include <string>
#include <vector>

namespace tessera::dataframe {

/// The shared empty categories (of a new, empty category column).
std::shared_ptr<const Categories> no_categories();
/// A string column as a category column (categories: its distinct valid values, sorted;
/// nulls stay null). Throws: TypeError for another dtype.
Column to_categorical(const Column& strings);
/// A category column as a string column (nulls stay null).
Column categorical_to_strings(const Column& c);
/// pandas' cat.codes: int64 codes, -1 for nulls, no nulls.
Column categorical_codes(const Column& c);
/// Appends b's codes to a's (both category): the union of their categories when they differ.
void append_codes(Column& a, const Column& b);
/// a's nulls replaced by `value` (a category column; `value` joins the categories).
Column fill_categorical(const Column& a, std::string_view value);

namespace detail {
/// Categories read back with column `c` (its codes already read). Throws: SerializationError
/// when they are not sorted and distinct or a valid row's code is out of range.
std::shared_ptr<const Categories> read_categories(const Column& c, std::vector<std::string> values);
/// The column with its category columns (if any) as string columns, others shared.
Table decode_categoricals(const Table& t, const std::vector<std::string>& columns);
}  // namespace detail

}  // namespace tessera::dataframe
