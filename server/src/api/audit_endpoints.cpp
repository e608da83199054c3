// Endpoint for the operator's reading of the audit log (docs/console.md "API queries"): newest
// first, one page per request (a range of the primary key).
#include "api/responses.hpp"
#include "api/rest_api.hpp"

namespace m2mdm::server {
using json = nlohmann::json;

HttpResponse RestApi::list_audit(Call& call) {
  auto page = id_page_params(call);
  if (!page) return page.error();
  auto list = store_.list_audit_page(page->after, page->limit);
  if (!list) return store_error(list.error());
  json arr = json::array();
  for (const auto& e : *list)
    arr.push_back({{"id", e.id}, {"at", e.at}, {"actor", e.actor}, {"action", e.action}, {"subject", e.subject},
                   {"detail", e.detail}});
  json out = {{"audit", arr}};
  if (!list->empty() && list->size() == page->limit) out["next"] = list->back().id;
  return json_response(200, out);
}

}  // namespace m2mdm::server
