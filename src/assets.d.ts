// Files imported `with { type: 'file' }` are paths into the compiled binary.
declare module 'swagger-ui-dist/swagger-ui-bundle.js' {
  const path: string
  export default path
}
declare module '*.css' {
  const path: string
  export default path
}
// The web console's files (src/console), embedded the same way.
declare module '*.svg' {
  const path: string
  export default path
}
declare module '*/console/console.js' {
  const path: string
  export default path
}
declare module '*/console/forms.js' {
  const path: string
  export default path
}
declare module '*/console/api.js' {
  const path: string
  export default path
}
declare module '*/console/pages.js' {
  const path: string
  export default path
}
declare module '*/console/activity.js' {
  const path: string
  export default path
}
