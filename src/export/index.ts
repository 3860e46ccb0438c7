export { createExporter, routeDestinations, type Exporter, type ExporterOptions, type Destination } from './exporter.js';
export { cStoreFiles, type DimseDestination, type SendOutcome } from './dimse-sender.js';
export { stowFiles, type StowDestination } from './stow-sender.js';
