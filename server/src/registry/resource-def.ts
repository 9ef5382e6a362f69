// How a resource of custom.example.com/v1 is described once: discovery
// (legacy and aggregated) and OpenAPI are generated from these, so they can
// only advertise what the router really serves.

export interface SubresourceDef {
  name: string;
  kind: string;
  verbs: string[];
}

export interface ResourceDef {
  name: string;
  singularName: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  subresources: SubresourceDef[];
}
