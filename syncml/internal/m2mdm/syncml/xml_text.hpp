/// @file xml_text.hpp
/// @brief The escaping of character data in SyncML's XML encoding, for the codec and for tools
///        that write SyncML XML text themselves (the conformance runner's scripted messages).
///        Build-tree only.
#pragma once

#include <string>
#include <string_view>

namespace m2mdm::syncml {

/// Appends @p text to @p out as XML character data: `&`, `<` and `>` as entities and CR as
/// `&#13;`, so that it survives the XML end-of-line normalisation (XML 1.0 §2.11) and a Data
/// value reaches the peer with the bytes it had. Nothing else is changed; checking that @p text
/// holds only characters XML can carry is the caller's concern.
void append_xml_text(std::string& out, std::string_view text);

}  // namespace m2mdm::syncml
