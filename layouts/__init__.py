"""Pure functions that build component trees and figures. No data access happens here."""
