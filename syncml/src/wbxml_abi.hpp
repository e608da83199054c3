/// @file wbxml_abi.hpp
/// @brief The part of libwbxml 0.11.8's parser ABI that the WBXML decoder uses.
///
/// Why this header exists: Debian's libwbxml2-dev 0.11.8 installs only wbxml.h and the XML<->WBXML
/// conversion API (wbxml_conv.h), yet libwbxml2.so exports the SAX-style parser
/// (wbxml_parser_*), whose callbacks let us build the model straight from WBXML without printing
/// XML and parsing it again. The declarations below are copied in meaning (not text) from
/// libwbxml 0.11.8's src/wbxml_parser.h, wbxml_handlers.h, wbxml_elt.h and wbxml_tables.h. We
/// only ever use:
///   - opaque pointers (WBXMLParser, WBXMLBuffer, WBXMLAttribute, WBXMLLangEntry);
///   - the content-handler struct (six function pointers, unchanged since libwbxml 0.10);
///   - WBXMLTag {type, union{token, literal}} and the *leading* fields of WBXMLTagEntry
///     (xmlName, wbxmlCodePage, wbxmlToken). Later libwbxml versions append an `options` field to
///     WBXMLTagEntry; we never index arrays of it or take its size, so that does not matter.
/// The symbols are checked at link time; the layouts are exercised by every WBXML unit test.
#pragma once

#include <wbxml.h>

extern "C" {

typedef struct WBXMLParser_s WBXMLParser;
typedef struct WBXMLBuffer_s WBXMLBuffer;
typedef struct WBXMLAttribute_s WBXMLAttribute;
typedef struct WBXMLLangEntry_s WBXMLLangEntry;

/// wbxml_tables.h: a tag token (leading fields only, see above).
typedef struct WBXMLTagEntry_s {
  const WB_TINY* xmlName;
  WB_UTINY wbxmlCodePage;
  WB_UTINY wbxmlToken;
} WBXMLTagEntry;

/// wbxml_elt.h
typedef enum WBXMLValueType_e { WBXML_VALUE_TOKEN = 0, WBXML_VALUE_LITERAL } WBXMLValueType;

typedef struct WBXMLTag_s {
  WBXMLValueType type;
  union {
    const WBXMLTagEntry* token;
    WBXMLBuffer* literal;
  } u;
} WBXMLTag;

/// wbxml_handlers.h
typedef void (*WBXMLStartDocumentHandler)(void* ctx, WBXMLCharsetMIBEnum charset, const WBXMLLangEntry* lang);
typedef void (*WBXMLEndDocumentHandler)(void* ctx);
typedef void (*WBXMLStartElementHandler)(void* ctx, WBXMLTag* localName, WBXMLAttribute** atts, WB_BOOL empty);
typedef void (*WBXMLEndElementHandler)(void* ctx, WBXMLTag* localName, WB_BOOL empty);
typedef void (*WBXMLCharactersHandler)(void* ctx, WB_UTINY* ch, WB_ULONG start, WB_ULONG length);
typedef void (*WBXMLProcessingInstructionHandler)(void* ctx, const WB_UTINY* target, WB_UTINY* data);

typedef struct WBXMLContentHandler_s {
  WBXMLStartDocumentHandler start_document_clb;
  WBXMLEndDocumentHandler end_document_clb;
  WBXMLStartElementHandler start_element_clb;
  WBXMLEndElementHandler end_element_clb;
  WBXMLCharactersHandler characters_clb;
  WBXMLProcessingInstructionHandler pi_clb;
} WBXMLContentHandler;

/// wbxml_parser.h
WBXMLParser* wbxml_parser_create(void);
void wbxml_parser_destroy(WBXMLParser* parser);
WBXMLError wbxml_parser_parse(WBXMLParser* parser, WB_UTINY* wbxml, WB_ULONG wbxml_len);
void wbxml_parser_set_user_data(WBXMLParser* parser, void* user_data);
void wbxml_parser_set_content_handler(WBXMLParser* parser, WBXMLContentHandler* content_handler);
WB_BOOL wbxml_parser_set_language(WBXMLParser* parser, WBXMLLanguage lang);
WB_LONG wbxml_parser_get_current_byte_index(WBXMLParser* parser);

/// wbxml_elt.h
const WB_UTINY* wbxml_tag_get_xml_name(WBXMLTag* tag);

}  // extern "C"
