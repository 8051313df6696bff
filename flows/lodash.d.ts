// LodashVersionsFlow imports lodash from per-step dependency environments, not from this
// project's node_modules, so its types are declared here (only what the flow uses).
declare module "lodash" {
  const lodash: { VERSION: string };
  export default lodash;
}
