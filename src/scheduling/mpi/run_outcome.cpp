#include "scheduling/mpi/run_outcome.hpp"

#include <algorithm>

namespace tessera {

MpiResultRef::~MpiResultRef() {
  // The last handle is gone: free the result on its owner and every copy adopted.
  auto rt = m_rt.lock();
  if (!rt || rt->shut_down || !rt->messenger) return;
  try {
    const int owner = m_ranks.front();
    if (owner == 0) rt->data->erase(m_id);
    else rt->send_release(owner, {m_id});
    if (m_ranks.size() == 1) return;
    auto router = m_router.lock();
    std::vector<std::pair<DataId, int>> copies;
    for (std::size_t k = 1; k < m_ranks.size(); ++k) {
      if (router) copies.emplace_back(m_id, m_ranks[k]);
      else rt->send_release(m_ranks[k], {m_id});  // no run left to count on them
    }
    if (router) router->release_copies(copies);
  } catch (...) {
  }
}

Value MpiResultRef::fetch() const {
  auto rt = m_rt.lock();
  if (!rt) TESSERA_THROW(TransportError, "a persisted result outlived its tessera::Runtime");
  return rt->gather({{m_id, ranks().front()}}).front();
}

std::vector<int> MpiResultRef::ranks() const {
  std::lock_guard lock(m_mutex);
  return m_ranks;
}

void MpiResultRef::adopt(const std::vector<int>& more) const {
  std::lock_guard lock(m_mutex);
  for (int r : more) {
    if (std::find(m_ranks.begin(), m_ranks.end(), r) == m_ranks.end()) m_ranks.push_back(r);
  }
}

Outcome::Outcome(std::size_t n)
    : ids(n), holders(n), nbytes(n, 0), borrowed(n, false), pinned(n, 0), shared(n, false), released(n, false) {}

detail::NodePtr kept_node(const std::shared_ptr<Runtime::Impl>& rt, const std::shared_ptr<proto::RunRouter>& router,
                          const Outcome& oc, const ExecGraph& g, std::uint32_t i) {
  const auto* src = g.nodes[i];
  auto node = std::make_shared<detail::TaskNode>();
  node->key = src->key;
  node->hash = src->hash;
  node->name_length = src->name_length;
  if (oc.borrowed[i]) node->ref = src->ref;  // already persisted before this run
  else node->ref = std::make_shared<MpiResultRef>(rt, router, oc.ids[i], oc.holders[i].front(), oc.nbytes[i]);
  return node;
}

void release(Outcome& oc, std::uint32_t i, Releases& out) {
  const std::size_t first = oc.pinned[i];
  auto& hs = oc.holders[i];
  for (std::size_t h = first; h < hs.size(); ++h) {
    if (oc.shared[i]) out.shared.emplace_back(oc.ids[i], hs[h]);
    else out.own[hs[h]].push_back(oc.ids[i]);
  }
  hs.resize(std::min(first, hs.size()));
  oc.released[i] = true;
}

void send_releases(Runtime::Impl& rt, proto::RunRouter::Releases& batches) {
  for (auto& [r, ids] : batches) {
    if (ids.empty()) continue;
    if (r == 0) rt.data->erase(ids);
    else rt.send_release(r, std::move(ids));
    ids.clear();
  }
}

void send_releases(Runtime::Impl& rt, proto::RunRouter& router, Releases& r) {
  send_releases(rt, r.own);
  router.release_copies(r.shared);
  r.shared.clear();
}

void release_all(Runtime::Impl& rt, proto::RunRouter& router, Outcome& oc, const ExecGraph& g) {
  Releases batches;
  for (std::uint32_t i = 0; i < g.size(); ++i) {
    if (!oc.released[i]) release(oc, i, batches);
  }
  send_releases(rt, router, batches);
}

void adopt_input_copies(Outcome& oc, const ExecGraph& g) {
  for (std::uint32_t i = 0; i < g.size(); ++i) {
    auto& hs = oc.holders[i];
    if (!oc.borrowed[i] || oc.released[i] || hs.size() <= oc.pinned[i]) continue;
    const auto* ref = dynamic_cast<const MpiResultRef*>(g.nodes[i]->ref.get());
    if (!ref) continue;
    ref->adopt(std::vector<int>(hs.begin() + oc.pinned[i], hs.end()));  // the router's counts for them now belong to the ref
    hs.resize(oc.pinned[i]);
  }
}

}  // namespace tessera
