// Starts GraphiQL as Strawberry's graphiql.html does, from a file instead of an inline script so
// the page runs under a Content-Security-Policy without 'unsafe-inline'. The endpoint comes from
// the page (data-graphql-path on #graphiql) because the page may be served from another path.
"use strict";

(function () {
  const container = document.getElementById("graphiql");

  // The service's own default document (schema/graphiql_document.py), given by the page.
  const EXAMPLE_QUERY = container.dataset.defaultDocument;

  // The query, variables and headers live in the URL so that a link shares them.
  const parameters = Object.fromEntries(new URLSearchParams(window.location.search));

  function updateURL(data) {
    Object.assign(parameters, data);
    const search = new URLSearchParams(
      Object.entries(parameters).filter(([, value]) => Boolean(value)),
    );
    history.replaceState(null, "", "?" + search.toString());
  }

  const fetchURL = new URL(container.dataset.graphqlPath, window.location.href);
  const subscriptionURL = new URL(fetchURL);
  subscriptionURL.protocol = fetchURL.protocol === "https:" ? "wss:" : "ws:";
  subscriptionURL.hash = "";

  // Django-style CSRF protection, as in Strawberry's page: harmless when there is no cookie.
  const headers = {};
  const csrfToken = Cookies.get("csrftoken");
  if (csrfToken) {
    headers["x-csrftoken"] = csrfToken;
  }

  const fetcher = GraphiQL.createFetcher({
    url: fetchURL.toString(),
    headers,
    subscriptionUrl: subscriptionURL.toString(),
  });
  const explorerPlugin = GraphiQLPluginExplorer.explorerPlugin();

  function GraphiQLWithExplorer() {
    const [query, setQuery] = React.useState(parameters.q || EXAMPLE_QUERY);
    const [variables, setVariables] = React.useState(parameters.variables);
    const [editorHeaders, setEditorHeaders] = React.useState(parameters.headers);

    return React.createElement(GraphiQL, {
      fetcher,
      defaultEditorToolsVisibility: true,
      plugins: [explorerPlugin],
      query,
      variables,
      headers: editorHeaders,
      onEditQuery(newQuery) {
        setQuery(newQuery);
        updateURL({ q: newQuery });
      },
      onEditVariables(newVariables) {
        setVariables(newVariables);
        updateURL({ variables: newVariables });
      },
      onEditHeaders: setEditorHeaders,
      inputValueDeprecation: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
    });
  }

  ReactDOM.createRoot(container).render(React.createElement(GraphiQLWithExplorer));
})();
