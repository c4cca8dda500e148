// Server-side entry to the data layer; importing it from client code fails the build.
import 'server-only';
export * from './pool';
