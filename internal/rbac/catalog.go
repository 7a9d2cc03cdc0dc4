package rbac

import "strings"

// ResourceType is one entry of the RBAC resource catalogue (GET /security/resources).
type ResourceType struct {
	Name        string
	Description string
}

// Example is the sample policy the catalogue gives for an action.
type Example struct {
	Actions   []string
	Resources []string
	Effect    string
}

// Action is one entry of the RBAC action catalogue with the resource types it applies to.
type Action struct {
	Name        string
	Description string
	Resources   []string
	Example     Example
}

// EndpointActions is one operation of the OpenAPI document ("METHOD /path") with its x-rbac-actions.
type EndpointActions struct {
	Endpoint string
	Actions  []string
}

// ResourceTypes returns the resource catalogue in Wazuh's order.
func ResourceTypes() []ResourceType { return append([]ResourceType(nil), resourceTypes...) }

// Actions returns the action catalogue in Wazuh's order.
func Actions() []Action {
	out := make([]Action, len(actionCatalog))
	for i, a := range actionCatalog {
		out[i] = a.clone()
	}
	return out
}

// LookupAction returns the catalogue entry of an action.
func LookupAction(name string) (Action, bool) {
	for _, a := range actionCatalog {
		if a.Name == name {
			return a.clone(), true
		}
	}
	return Action{}, false
}

func (a Action) clone() Action {
	a.Resources = append([]string(nil), a.Resources...)
	a.Example.Actions = append([]string(nil), a.Example.Actions...)
	a.Example.Resources = append([]string(nil), a.Example.Resources...)
	return a
}

// Endpoints returns every operation of the OpenAPI document in document order with its x-rbac-actions.
func Endpoints() []EndpointActions {
	out := make([]EndpointActions, len(specEndpoints))
	for i, e := range specEndpoints {
		out[i] = EndpointActions{Endpoint: e.Endpoint, Actions: append([]string(nil), e.Actions...)}
	}
	return out
}

// ResourcesView is the data of GET /security/resources: resource name → {"description": ...}.
type ResourcesView []ResourceType

// ResourcesFor returns the data of GET /security/resources for the resource parameter ("" for all). An
// unknown resource yields a *CatalogError with code 4019.
func ResourcesFor(resource string) (ResourcesView, error) {
	if resource == "" {
		return ResourceTypes(), nil
	}
	for _, r := range resourceTypes {
		if r.Name == resource {
			return ResourcesView{r}, nil
		}
	}
	return nil, &CatalogError{Code: CodeInvalidResourceID, Message: "Invalid resource specified"}
}

// MarshalJSON renders the view in catalogue order.
func (v ResourcesView) MarshalJSON() ([]byte, error) { return v.appendJSON(nil, false), nil }

// PythonJSON renders the view as Python's json.dumps does.
func (v ResourcesView) PythonJSON() []byte { return v.appendJSON(nil, true) }

func (v ResourcesView) appendJSON(b []byte, spaced bool) []byte {
	w := jsonWriter{b: b, spaced: spaced}
	w.open('{')
	for _, r := range v {
		w.key(r.Name)
		w.open('{')
		w.key("description")
		w.str(r.Description)
		w.close('}')
	}
	w.close('}')
	return w.b
}

// ActionView is one action of GET /security/actions with the endpoints that list it.
type ActionView struct {
	Action
	RelatedEndpoints []string
}

// ActionsView is the data of GET /security/actions in Wazuh's order.
type ActionsView []ActionView

// ActionsFor returns the data of GET /security/actions for the endpoint parameter ("" for all): the actions
// in order of first appearance while walking the operations, each with its related endpoints. An endpoint
// that is not an operation of the document yields a *CatalogError with code 4020.
func ActionsFor(endpoint string) (ActionsView, error) {
	if endpoint != "" {
		found := false
		for _, e := range specEndpoints {
			if e.Endpoint == endpoint {
				found = true
				break
			}
		}
		if !found {
			return nil, &CatalogError{Code: CodeInvalidEndpoint, Message: "Invalid endpoint specified",
				RemediationSuffix: EndpointListRepr()}
		}
	}
	out := ActionsView{}
	pos := map[string]int{}
	for _, e := range specEndpoints {
		if endpoint != "" && e.Endpoint != endpoint {
			continue
		}
		for _, name := range e.Actions {
			i, ok := pos[name]
			if !ok {
				a, known := LookupAction(name)
				if !known {
					break // Wazuh's KeyError skips the rest of this operation
				}
				i = len(out)
				pos[name] = i
				out = append(out, ActionView{Action: a})
			}
			out[i].RelatedEndpoints = append(out[i].RelatedEndpoints, e.Endpoint)
		}
	}
	return out, nil
}

// MarshalJSON renders the view with keys description, resources, example, related_endpoints.
func (v ActionsView) MarshalJSON() ([]byte, error) { return v.appendJSON(nil, false), nil }

// PythonJSON renders the view as Python's json.dumps does.
func (v ActionsView) PythonJSON() []byte { return v.appendJSON(nil, true) }

func (v ActionsView) appendJSON(b []byte, spaced bool) []byte {
	w := jsonWriter{b: b, spaced: spaced}
	w.open('{')
	for _, a := range v {
		w.key(a.Name)
		w.open('{')
		w.key("description")
		w.str(a.Description)
		w.key("resources")
		w.strs(a.Resources)
		w.key("example")
		w.open('{')
		w.key("actions")
		w.strs(a.Example.Actions)
		w.key("resources")
		w.strs(a.Example.Resources)
		w.key("effect")
		w.str(a.Example.Effect)
		w.close('}')
		w.key("related_endpoints")
		w.strs(a.RelatedEndpoints)
		w.close('}')
	}
	w.close('}')
	return w.b
}

// EndpointListRepr returns the Python repr of the list of every "METHOD /path" of the document, the text
// Wazuh appends (after ": ") to the 4020 remediation "Valid endpoints are:".
func EndpointListRepr() string {
	var sb strings.Builder
	sb.WriteByte('[')
	for i, e := range specEndpoints {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString("'" + e.Endpoint + "'")
	}
	sb.WriteByte(']')
	return sb.String()
}

// CatalogError is a 4019 or 4020 error of the catalogue endpoints.
type CatalogError struct {
	Code              int
	Message           string
	RemediationSuffix string
}

// Error returns Wazuh's message.
func (e *CatalogError) Error() string { return e.Message }
